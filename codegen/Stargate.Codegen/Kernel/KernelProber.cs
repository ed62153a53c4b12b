using Stargate.Codegen.Probes;

namespace Stargate.Codegen.Kernel;

/// <summary>A kernel's profile, and a line for each optional API it lacks (what the module does without it).</summary>
internal sealed record ProbedKernel(KernelProfile Profile, IReadOnlyList<string> Notes);

/// <summary>Works out a kernel's profile: its identity from the headers, its APIs by compile probes.</summary>
internal static class KernelProber
{
    /// <summary>
    /// Probes the kernel (probes/configure.sh). A kernel the module does not cover fails with
    /// every unmet requirement as a diagnostic at the kernel header that should declare the API;
    /// Kbuild's output is then in a log file named in the message, not printed.
    /// </summary>
    public static ProbedKernel Probe(KernelHeaders headers, string probes)
    {
        var outcome = ProbeScript.Probe(headers, probes);
        return new ProbedKernel(KernelProfile.Create(headers, outcome.Results), outcome.Notes);
    }
}
