namespace Stargate.Codegen.Probes;

/// <summary>An API the templates know in several forms: exactly one of them must compile.</summary>
internal sealed record OneOfRequirement(string Api, IReadOnlyList<string> Forms);
