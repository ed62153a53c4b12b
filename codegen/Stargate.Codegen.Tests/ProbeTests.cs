using Stargate.Codegen.Kernel;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>Probing real kernel headers with probes/configure.sh: one Kbuild run per kernel, shared through the fixture.</summary>
[Collection(SharedKernels.Name)]
public sealed class ProbeTests(KernelFixture kernels)
{
    [SkippableTheory]
    [MemberData(nameof(GoldenTests.Releases), MemberType = typeof(GoldenTests))]
    public void Probe_RecordedKernel_GivesTheRecordedProfile(string release)
    {
        var headers = MatrixKernels.HeadersOfRelease(release);
        Skip.If(headers is null, $"the headers of {release} are not installed here");

        string recorded = File.ReadAllText(Path.Combine(Repo.Golden, release, "profile.json"));
        Assert.Equal(recorded, kernels.Profile(KernelHeaders.Open(headers)).ToJson());
    }

    [SkippableTheory]
    [MemberData(nameof(MatrixKernels.Ids), MemberType = typeof(MatrixKernels))]
    public void Probe_MatrixKernel_FindsEveryApiAndExactlyOneFormOfEach(string id)
    {
        var profile = kernels.Profile(MatrixKernels.OpenOrSkip(id));

        // probes.list read here again, independently of configure.sh's own check.
        Assert.Equal(MatrixKernels.Get(id).Line, profile.Line);
        foreach (var line in File.ReadAllLines(Path.Combine(Repo.Folders.Probes, "probes.list")).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var forms = fields[1].Split(',');
            switch (fields[0])
            {
                case "allof":
                    Assert.True(profile.Api[forms[0]], $"{forms[0]} is false on {profile.Release}");
                    break;
                case "oneof":
                    Assert.Single(forms, form => profile.Api[form]);
                    break;
                case "optional":
                    // Transparent huge pages: every flavour but PREEMPT_RT has them.
                    Assert.Equal(MatrixKernels.Get(id).Flavor != "rt", profile.Api[forms[0]]);
                    break;
                default:
                    Assert.Fail($"probes.list: unknown line '{line}'");
                    break;
            }
        }
    }

    [SkippableFact]
    public void Probe_WhenNoKnownFormCompiles_ReportsTheApiAtTheKernelHeader()
    {
        string headers = MatrixKernels.AnyOrSkip().Directory;

        using var scratch = new ScratchDirectory();
        ScratchTemplates.Probe(scratch, "works", "include/linux/fs.h", null, "static int __used probe_works;");
        ScratchTemplates.Probe(scratch, "teleport_v1", "include/linux/teleport.h", "teleport", "#error \"no teleport\"");
        ScratchTemplates.Probe(scratch, "teleport_v2", "include/linux/teleport.h", "teleport", "static void __used probe(void) { teleport(1, 2); }");
        ScratchTemplates.Probe(scratch, "vm_flags_gone", "include/linux/mm_types.h", "vm_flags;", "#error \"gone\"");
        ScratchTemplates.Requirements(scratch, "allof works\nallof vm_flags_gone\noneof teleport_v1,teleport_v2 teleportation\n");

        var result = CodegenCommand.Run("probe", "--headers", headers, "--templates", scratch.Path);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        var lines = CodegenCommand.ErrorLines(result);
        // Both problems, together, in the compiler's form; no compiler output.
        Assert.Contains(lines, l => l.Contains("include/linux/mm_types.h(", StringComparison.Ordinal) && l.Contains("): error: this kernel lacks vm_flags_gone", StringComparison.Ordinal)
            && !l.Contains("(1,1)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("include/linux/teleport.h(1,1): error: teleportation: ", StringComparison.Ordinal)
            && l.Contains("teleport_v1", StringComparison.Ordinal) && l.Contains("teleport_v2", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("#error", StringComparison.Ordinal) || l.StartsWith("make", StringComparison.Ordinal));
        Assert.StartsWith("stargate-codegen: the module does not support kernel ", lines[^1], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length);
    }

    [SkippableFact]
    public void Probe_WhenAnOptionalApiIsMissing_SaysInOneLineWhatTheModuleDoesWithout()
    {
        string headers = MatrixKernels.AnyOrSkip().Directory;

        using var scratch = new ScratchDirectory();
        ScratchTemplates.Probe(scratch, "works", "include/linux/fs.h", null, "static int __used probe_works;");
        ScratchTemplates.Probe(scratch, "wings", "include/linux/wings.h", null, "#error \"no wings\"");
        ScratchTemplates.Requirements(scratch, "allof works\noptional wings  files walk instead of flying\n");

        var result = CodegenCommand.Run("probe", "--headers", headers, "--templates", scratch.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        string release = MatrixKernels.AnyOrSkip().Release;
        Assert.Contains($"stargate-codegen: {release}: no wings (wings for the test): files walk instead of flying", CodegenCommand.ErrorLines(result));
        Assert.Contains("\"wings\": false", result.Stdout, StringComparison.Ordinal);
    }
}
