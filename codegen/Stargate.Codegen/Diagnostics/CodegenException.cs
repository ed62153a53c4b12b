namespace Stargate.Codegen.Diagnostics;

/// <summary>
/// A failure the user can act on. Printed as: <see cref="Detail"/> (tool output worth seeing,
/// such as Kbuild's), then every diagnostic in order, then the message as the last line.
/// </summary>
internal sealed class CodegenException : Exception
{
    public CodegenException(string message, IReadOnlyList<Diagnostic>? diagnostics = null, string? detail = null)
        : base(message)
    {
        Diagnostics = diagnostics ?? [];
        Detail = detail;
    }

    public IReadOnlyList<Diagnostic> Diagnostics { get; }

    public string? Detail { get; }

    /// <summary>Collected diagnostics end a step together: nothing is thrown while there are none.</summary>
    public static void ThrowIfAny(IReadOnlyList<Diagnostic> diagnostics, string summary)
    {
        if (diagnostics.Count > 0)
        {
            throw new CodegenException($"{summary} ({diagnostics.Count} error{(diagnostics.Count == 1 ? "" : "s")})", diagnostics);
        }
    }
}
