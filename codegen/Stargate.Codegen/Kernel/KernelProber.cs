using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Probes;

namespace Stargate.Codegen.Kernel;

/// <summary>Works out a kernel's profile: its identity from the headers, its APIs by compile probes.</summary>
internal static class KernelProber
{
    /// <summary>
    /// Probes the kernel and checks the templates' requirements. A kernel the templates do not
    /// cover fails with every unmet requirement as a diagnostic; Kbuild's output is then kept in
    /// a log file named in the message, not printed.
    /// </summary>
    public static KernelProfile Probe(KernelHeaders headers, ProbeSet probes)
    {
        var run = ProbeRunner.Run(headers, probes);
        var diagnostics = Requirements.Check(probes, run.Results, probe => headers.Locate(probe.Header, probe.Symbol));
        if (diagnostics.Count > 0)
        {
            string log = Path.Combine(Path.GetTempPath(), $"stargate-probes-{headers.Release}.log");
            File.WriteAllText(log, run.Log);
            throw new CodegenException(
                $"the templates do not support kernel {headers.Release} ({diagnostics.Count} missing API{(diagnostics.Count == 1 ? "" : "s")}; the probes' compiler output is in {log})",
                diagnostics);
        }

        return KernelProfile.Create(headers, run.Results);
    }
}
