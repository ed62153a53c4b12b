using Stargate.Codegen.Kernel;

namespace Stargate.Codegen.Rendering;

/// <summary>
/// What the templates see:
/// <code>
/// kernel: { release: "6.1.0-56-amd64", version: "6.1.192", major: 6, minor: 1, line: "6.1" }
/// module: { name: "stargatefs", version: "0.4.0", objects: "file.o inode.o main.o ..." }
/// api:    { PROBE: true|false, ... }   every probe in guest-module-templates/probes
/// </code>
/// <c>module.objects</c> lists the module's C files (NAME.c or NAME.c.hbs at the top of the
/// template folder), sorted, so that Kbuild needs no edit for a new file.
/// </summary>
internal static class TemplateModel
{
    public static Dictionary<string, object> Create(KernelProfile profile, IEnumerable<string> objects) => new()
    {
        ["kernel"] = new Dictionary<string, object>
        {
            ["release"] = profile.Release,
            ["version"] = profile.Version,
            ["major"] = profile.Major,
            ["minor"] = profile.Minor,
            ["line"] = profile.Line,
        },
        ["module"] = new Dictionary<string, object>
        {
            ["name"] = ModuleInfo.Name,
            ["version"] = ModuleInfo.Version,
            ["objects"] = string.Join(' ', objects),
        },
        ["api"] = profile.Api.ToDictionary(flag => flag.Key, flag => (object)flag.Value, StringComparer.Ordinal),
    };
}
