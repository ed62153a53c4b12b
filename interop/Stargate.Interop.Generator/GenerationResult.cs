namespace Stargate.Interop.Generator;

/// <summary>
/// The generated C# text, or null when any error or warning was found; the diagnostics in
/// header order (clang's first, then the generator's).
/// </summary>
public sealed record GenerationResult(string? Text, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool Succeeded => Text is not null;
}
