using Stargate.Interop.Generator.Clang;

namespace Stargate.Interop.Generator.Reading;

/// <summary>An object-like SGZ_* macro of the header: where it is, its replacement text, its comment.</summary>
internal sealed record MacroDefinition(string Name, SourcePosition Position, string Body, IReadOnlyList<string> Doc);
