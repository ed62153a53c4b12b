using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kbuild;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Probes;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>The module built with Kbuild against real kernel headers, as `stargate-codegen build` does.</summary>
[Collection(SharedKernels.Name)]
public sealed class BuildTests(KernelFixture kernels)
{
    [SkippableTheory]
    [MemberData(nameof(MatrixKernels.LineNames), MemberType = typeof(MatrixKernels))]
    public void Build_MatrixKernel_BuildsStargatefsWithoutWarnings(string line)
    {
        var headers = Headers(line);
        var profile = kernels.Profile(headers);
        using var scratch = new ScratchDirectory();

        var build = BuildOrExplain(() => ModuleBuilder.Build(headers, profile, Repo.Folders.Module, Repo.ZoneHeader, scratch.Path));

        Assert.True(new FileInfo(build.Module).Length > 0);
        Assert.Contains($"BUILD_EXCLUSIVE_KERNEL=\"^{profile.Major}\\.{profile.Minor}\\.\"", File.ReadAllText(Path.Combine(build.DkmsTree, "dkms.conf")), StringComparison.Ordinal);
        Assert.Equal(profile.ToJson(), File.ReadAllText(build.Profile));
    }

    [SkippableFact]
    public void Build_HelloModule_WritesModuleProfileAndCleanDkmsTree()
    {
        var headers = Headers("6.12", "6.1");
        using var scratch = new ScratchDirectory();
        ScratchTemplates.HelloModule(scratch);
        var profile = kernels.Profile(headers);

        var build = BuildOrExplain(() => ModuleBuilder.Build(headers, profile, scratch.Combine("stargatefs"), Repo.ZoneHeader, scratch.Combine("out")));

        string directory = scratch.Combine("out", headers.Release);
        Assert.Equal(directory, build.Directory);
        Assert.True(File.Exists(Path.Combine(directory, "stargatefs.ko")));
        Assert.True(File.Exists(Path.Combine(directory, "src", "main.o")), "Kbuild builds in src/");
        Assert.Equal(Path.Combine(directory, "dkms", "stargatefs-" + ModuleInfo.Version), build.DkmsTree);
        var dkmsFiles = Directory.EnumerateFiles(build.DkmsTree, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(build.DkmsTree, f)).Order(StringComparer.Ordinal);
        Assert.Equal(["Kbuild", "dkms.conf", "include/stargate_zone.h", "main.c"], dkmsFiles);
        Assert.Contains("stargatefs-y := main.o", File.ReadAllText(Path.Combine(build.DkmsTree, "Kbuild")), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Build_WhenTheCDoesNotCompile_FailsWithKbuildOutput()
    {
        var headers = Headers("6.12", "6.1");
        using var scratch = new ScratchDirectory();
        ScratchTemplates.HelloModule(scratch, ScratchTemplates.HelloC.Replace("return 0;", "return no_such_thing;", StringComparison.Ordinal));

        var e = Assert.Throws<CodegenException>(() => ModuleBuilder.Build(headers, kernels.Profile(headers), scratch.Combine("stargatefs"), Repo.ZoneHeader, scratch.Combine("out")));

        Assert.StartsWith($"Kbuild failed for {headers.Release}", e.Message, StringComparison.Ordinal);
        Assert.Contains("'no_such_thing' undeclared", e.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.Combine("out", headers.Release, "stargatefs.ko")));
    }

    [SkippableFact]
    public void Build_WhenKbuildWarns_Fails()
    {
        var headers = Headers("6.12", "6.1");
        using var scratch = new ScratchDirectory();
        ScratchTemplates.HelloModule(scratch, ScratchTemplates.HelloC.Replace("return 0;", "int unused; return 0;", StringComparison.Ordinal));
        // Without the template's -Werror, the warning reaches the output: codegen must still refuse it.
        File.WriteAllText(scratch.Combine("stargatefs", "Kbuild.hbs"), "obj-m := stargatefs.o\nstargatefs-y := {{module.objects}}\nccflags-y += -I$(src)/include\n");

        var e = Assert.Throws<CodegenException>(() => ModuleBuilder.Build(headers, kernels.Profile(headers), scratch.Combine("stargatefs"), Repo.ZoneHeader, scratch.Combine("out")));

        Assert.StartsWith($"Kbuild warned 1 time for {headers.Release}", e.Message, StringComparison.Ordinal);
        Assert.Contains("warning: unused variable 'unused'", e.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.Combine("out", headers.Release, "stargatefs.ko")));
    }

    /// <summary>The installed headers of the first of these lines that has them; skips the test when none does.</summary>
    private static KernelHeaders Headers(params string[] lines)
    {
        var dir = lines.Select(MatrixKernels.Headers).FirstOrDefault(d => d is not null);
        Skip.If(dir is null, MatrixKernels.InstallHint("Linux " + string.Join(" or ", lines)));
        return KernelHeaders.Open(dir);
    }

    /// <summary>A failed build shows what the user of the command would see.</summary>
    private static ModuleBuild BuildOrExplain(Func<ModuleBuild> build)
    {
        try
        {
            return build();
        }
        catch (CodegenException e)
        {
            Assert.Fail($"{e.Detail}\n{string.Join('\n', e.Diagnostics)}\n{e.Message}");
            throw;
        }
    }
}
