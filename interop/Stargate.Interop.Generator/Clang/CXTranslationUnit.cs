namespace Stargate.Interop.Generator.Clang;

/// <summary>A parsed file and everything it includes (clang-c CXTranslationUnit).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXTranslationUnit
{
    public readonly nint Handle;

    public bool IsNull => Handle == 0;
}
