namespace Stargate.Interop.Generator;

/// <summary>How bad a <see cref="Diagnostic"/> is; warnings fail generation like errors.</summary>
public enum DiagnosticSeverity
{
    Note,
    Warning,
    Error,
}
