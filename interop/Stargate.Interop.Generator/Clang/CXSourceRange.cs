namespace Stargate.Interop.Generator.Clang;

/// <summary>A half-open source range (clang-c CXSourceRange: ptr_data[2], begin, end).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXSourceRange
{
    public readonly nint PtrData0;
    public readonly nint PtrData1;
    public readonly uint BeginIntData;
    public readonly uint EndIntData;
}
