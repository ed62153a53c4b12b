namespace Stargate.Interop.Generator.Clang;

/// <summary>
/// A file that exists only in memory (clang-c CXUnsavedFile). Both strings are UTF-8 and
/// must stay alive until the translation unit is parsed.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXUnsavedFile
{
    public byte* Filename;
    public byte* Contents;
    public nuint Length;
}
