namespace Stargate.Interop.Generator.Clang;

/// <summary>A libclang-owned string (clang-c CXString); read and freed by <see cref="LibClang.Take"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXString
{
    public readonly nint Data;
    public readonly uint PrivateFlags;
}
