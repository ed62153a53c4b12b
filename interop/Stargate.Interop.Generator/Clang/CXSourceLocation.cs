namespace Stargate.Interop.Generator.Clang;

/// <summary>A position in a source file (clang-c CXSourceLocation: ptr_data[2], int_data).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXSourceLocation
{
    public readonly nint PtrData0;
    public readonly nint PtrData1;
    public readonly uint IntData;
}
