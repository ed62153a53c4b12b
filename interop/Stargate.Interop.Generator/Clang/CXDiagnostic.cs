namespace Stargate.Interop.Generator.Clang;

/// <summary>One diagnostic of a translation unit; disposed with clang_disposeDiagnostic.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXDiagnostic
{
    public readonly nint Handle;
}
