namespace Stargate.Interop.Generator.Clang;

/// <summary>An index: the context that owns translation units (clang-c CXIndex).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXIndex
{
    public readonly nint Handle;

    public bool IsNull => Handle == 0;
}
