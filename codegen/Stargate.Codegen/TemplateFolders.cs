namespace Stargate.Codegen;

/// <summary>
/// The layout of guest-module-templates/ that codegen reads: probes/ (the compile probes,
/// probes.list and configure.sh) and stargatefs/ (the module's C, Makefile and templates).
/// </summary>
internal sealed record TemplateFolders(string Root)
{
    public string Probes => Path.Combine(Root, "probes");

    public string Module => Path.Combine(Root, ModuleInfo.Name);
}
