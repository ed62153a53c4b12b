namespace Stargate.Interop.Generator;

/// <summary>
/// A problem found in the header, by clang or by the generator's ABI rules. Prints as
/// <c>file(line,col): error: message</c>, the form editors and CI logs link to.
/// </summary>
public sealed record Diagnostic(string File, int Line, int Column, DiagnosticSeverity Severity, string Message)
{
    /// <summary>Whether this diagnostic makes generation fail (notes only explain another one).</summary>
    public bool IsFailure => Severity != DiagnosticSeverity.Note;

    public override string ToString()
    {
        string where = Line > 0 ? $"{File}({Line},{Column})" : File;
        string severity = Severity.ToString().ToLowerInvariant();
        return where.Length > 0 ? $"{where}: {severity}: {Message}" : $"{severity}: {Message}";
    }
}
