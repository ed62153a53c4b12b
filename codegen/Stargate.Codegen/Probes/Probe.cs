namespace Stargate.Codegen.Probes;

/// <summary>
/// One compile probe: guest-module-templates/probes/NAME.c, true for a kernel iff it compiles
/// (warnings are errors) against that kernel's headers. Its comment header names the rest:
/// <code>
/// // Probe: NAME                      the file's name, and the template flag api.NAME
/// // API: what the probe needs, for people and for diagnostics
/// // Header: include/linux/fs.h       the kernel header that declares it (diagnostics point there)
/// // Symbol: generic_fillattr         optional: the text to point at in that header
/// </code>
/// </summary>
internal sealed record Probe(string Name, string Api, string Header, string? Symbol, string SourcePath);
