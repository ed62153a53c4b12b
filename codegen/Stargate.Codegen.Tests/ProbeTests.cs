using Stargate.Codegen.Kernel;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>Probing real kernel headers: one Kbuild run per kernel, shared through the fixture.</summary>
[Collection(SharedKernels.Name)]
public sealed class ProbeTests(KernelFixture kernels)
{
    [SkippableTheory]
    [MemberData(nameof(GoldenTests.Releases), MemberType = typeof(GoldenTests))]
    public void Probe_RecordedKernel_GivesTheRecordedProfile(string release)
    {
        var headers = MatrixKernels.HeadersOfRelease(release);
        Skip.If(headers is null, MatrixKernels.InstallHint(release));

        string recorded = File.ReadAllText(Path.Combine(Repo.Golden, release, "profile.json"));
        Assert.Equal(recorded, kernels.Profile(KernelHeaders.Open(headers)).ToJson());
    }

    [SkippableTheory]
    [MemberData(nameof(MatrixKernels.LineNames), MemberType = typeof(MatrixKernels))]
    public void Probe_MatrixKernel_FindsExactlyOneFormOfEveryApi(string line)
    {
        var headers = MatrixKernels.Headers(line);
        Skip.If(headers is null, MatrixKernels.InstallHint("Linux " + line));

        var profile = kernels.Profile(KernelHeaders.Open(headers));
        Assert.Equal(line, profile.Line);
        Assert.All(kernels.Probes.AllOf, name => Assert.True(profile.Api[name], $"{name} is false on {profile.Release}"));
        Assert.All(kernels.Probes.OneOf, group => Assert.Single(group.Forms, form => profile.Api[form]));
    }

    [SkippableFact]
    public void Probe_WhenNoKnownFormCompiles_ReportsTheApiAtTheKernelHeader()
    {
        var headers = MatrixKernels.LineList.Select(MatrixKernels.Headers).FirstOrDefault(h => h is not null);
        Skip.If(headers is null, MatrixKernels.InstallHint("any matrix kernel"));

        using var scratch = new ScratchDirectory();
        ScratchTemplates.Probe(scratch, "works", "include/linux/fs.h", null, "static int __used probe_works;");
        ScratchTemplates.Probe(scratch, "teleport_v1", "include/linux/teleport.h", "teleport", "#error \"no teleport\"");
        ScratchTemplates.Probe(scratch, "teleport_v2", "include/linux/teleport.h", "teleport", "static void __used probe(void) { teleport(1, 2); }");
        ScratchTemplates.Probe(scratch, "vm_flags_gone", "include/linux/mm_types.h", "vm_flags;", "#error \"gone\"");
        ScratchTemplates.Requirements(scratch, """
            { "allOf": ["works", "vm_flags_gone"],
              "oneOf": [{ "api": "teleportation", "forms": ["teleport_v1", "teleport_v2"] }] }
            """);

        var result = CodegenCommand.Run("probe", "--headers", headers, "--templates", scratch.Path);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        var lines = CodegenCommand.ErrorLines(result);
        // Both problems, together, in the compiler's form; no compiler output.
        Assert.Contains(lines, l => l.StartsWith("include/linux/teleport.h(1,1): error: teleportation: ", StringComparison.Ordinal)
            && l.Contains("teleport_v1", StringComparison.Ordinal) && l.Contains("teleport_v2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("include/linux/mm_types.h(", StringComparison.Ordinal) && l.Contains("): error: this kernel lacks vm_flags_gone", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("#error", StringComparison.Ordinal) || l.StartsWith("make", StringComparison.Ordinal));
        Assert.StartsWith("stargate-codegen: the templates do not support kernel ", lines[^1], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length);
    }
}
