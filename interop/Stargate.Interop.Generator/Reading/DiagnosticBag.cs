using Stargate.Interop.Generator.Clang;

namespace Stargate.Interop.Generator.Reading;

/// <summary>Collects diagnostics so that one run reports every problem, then fails at the end.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<Diagnostic> items = [];

    public IReadOnlyList<Diagnostic> Items => items;

    public bool HasFailures => items.Exists(d => d.IsFailure);

    public void Add(Diagnostic diagnostic) => items.Add(diagnostic);

    public void Error(SourcePosition at, string message) =>
        items.Add(new Diagnostic(at.File, at.Line, at.Column, DiagnosticSeverity.Error, message));
}
