namespace Stargate.Interop.Generator.Clang;

/// <summary>Severity of a clang diagnostic.</summary>
internal enum CXDiagnosticSeverity
{
    Ignored = 0,
    Note = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}
