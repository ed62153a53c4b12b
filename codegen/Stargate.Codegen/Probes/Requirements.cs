using Stargate.Codegen.Diagnostics;

namespace Stargate.Codegen.Probes;

/// <summary>Checks probe results against what the templates require (probes.json).</summary>
internal static class Requirements
{
    /// <summary>
    /// Every requirement the results do not meet, one diagnostic each, pointing at the kernel
    /// header that should declare the API (<paramref name="locate"/> finds it). Empty: the
    /// templates cover this kernel.
    /// </summary>
    public static List<Diagnostic> Check(ProbeSet probes, IReadOnlyDictionary<string, bool> results, Func<Probe, (string File, int Line, int Column)> locate)
    {
        var diagnostics = new List<Diagnostic>();
        Diagnostic At(Probe probe, string message)
        {
            var (file, line, column) = locate(probe);
            return new Diagnostic(file, line, column, message);
        }

        foreach (var name in probes.AllOf)
        {
            if (!results[name])
            {
                var probe = probes[name];
                diagnostics.Add(At(probe, $"this kernel lacks {probe.Api} (probe {name} does not compile): the templates do not cover it"));
            }
        }

        foreach (var group in probes.OneOf)
        {
            var found = group.Forms.Where(form => results[form]).ToList();
            var first = probes[group.Forms[0]];
            string tried = string.Join("; ", group.Forms.Select(form => $"{form}: {probes[form].Api}"));
            if (found.Count == 0)
            {
                diagnostics.Add(At(first, $"{group.Api}: no form the templates know compiles on this kernel (tried {tried}); add a probe for this kernel's form and use it in the templates"));
            }
            else if (found.Count > 1)
            {
                diagnostics.Add(At(first, $"{group.Api}: {string.Join(" and ", found)} both compile, but exactly one form must: make the probes tell them apart"));
            }
        }

        return diagnostics;
    }
}
