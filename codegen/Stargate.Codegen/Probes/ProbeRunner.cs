using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kbuild;
using Stargate.Codegen.Kernel;

namespace Stargate.Codegen.Probes;

/// <summary>The outcome of one probe run: which probes compiled, and Kbuild's output.</summary>
internal sealed record ProbeRun(IReadOnlyDictionary<string, bool> Results, string Log);

/// <summary>
/// Compiles every probe against one kernel in a single Kbuild run, the way out-of-tree
/// drivers test for APIs: each probe is an object of its own in a scratch module folder,
/// make -k builds them all (a probe that fails to compile is an answer, not an error), and a
/// probe is true iff its object exists afterwards. Nothing is kept or cached between runs.
/// </summary>
internal static class ProbeRunner
{
    public static ProbeRun Run(KernelHeaders headers, ProbeSet probes)
    {
        var scratch = Directory.CreateTempSubdirectory("stargate-probes-");
        try
        {
            var objects = probes.Probes.Select(p => p.Name + ".o").ToList();
            foreach (var probe in probes.Probes)
            {
                File.Copy(probe.SourcePath, Path.Combine(scratch.FullName, probe.Name + ".c"));
            }

            // Warnings are errors: a wrong function-pointer type is only a warning in C, and a
            // probe of the wrong form must fail. Object targets, not `modules`: no modpost, no link.
            File.WriteAllText(
                Path.Combine(scratch.FullName, "Kbuild"),
                $"obj-m := {string.Join(' ', objects)}\nccflags-y := -Werror\n");
            var make = Make.Run(headers.Directory, scratch.FullName, objects, keepGoing: true);
            var results = probes.Probes.ToDictionary(p => p.Name, p => File.Exists(Path.Combine(scratch.FullName, p.Name + ".o")), StringComparer.Ordinal);
            if (results.Count > 0 && !results.ContainsValue(true))
            {
                // Every probe failing means a broken toolchain or headers, not a kernel without every API.
                throw new CodegenException(
                    $"no probe compiled against {headers.Directory}: the compiler or the headers are broken (make exited {make.ExitCode}; Kbuild's output is above)",
                    detail: make.Output);
            }

            return new ProbeRun(results, make.Output);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}
