using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kbuild;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Probes;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>The module built with Kbuild against real kernel headers, as `stargate-codegen build` does.</summary>
[Collection(SharedKernels.Name)]
public sealed class BuildTests(KernelFixture kernels, ModuleBuilds builds)
{
    [SkippableTheory]
    [MemberData(nameof(MatrixKernels.Ids), MemberType = typeof(MatrixKernels))]
    public void Build_MatrixKernel_BuildsStargatefsWithoutWarnings(string id)
    {
        var headers = MatrixKernels.OpenOrSkip(id);
        var profile = kernels.Profile(headers);

        var build = BuildOrExplain(() => builds.Build(headers, kernels));

        Assert.True(new FileInfo(build.Module).Length > 0);
        Assert.Equal(profile.ToJson(), File.ReadAllText(build.Profile));
        string src = Path.Combine(build.Directory, "src");
        Assert.Equal(ProbeScript.Configure(profile.Api, Repo.Folders.Probes), File.ReadAllBytes(Path.Combine(src, ProbeScript.ConfigHeader)));
        // The DKMS tree configures itself: no header of the kernel it was made on, the probes instead.
        Assert.False(File.Exists(Path.Combine(build.DkmsTree, ProbeScript.ConfigHeader)));
        Assert.True(File.Exists(Path.Combine(build.DkmsTree, "probes", ProbeScript.FileName)));
        Assert.DoesNotContain("BUILD_EXCLUSIVE_KERNEL", File.ReadAllText(Path.Combine(build.DkmsTree, "dkms.conf")), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Build_HelloModule_WritesModuleProfileAndDkmsTree()
    {
        var headers = MatrixKernels.AnyOrSkip();
        using var scratch = new ScratchDirectory();
        ScratchTemplates.HelloModule(scratch);
        var profile = kernels.Profile(headers);

        var build = BuildOrExplain(() => ModuleBuilder.Build(headers, profile, new TemplateFolders(scratch.Path), Repo.ZoneHeader, scratch.Combine("out")));

        string directory = scratch.Combine("out", headers.Release);
        Assert.Equal(directory, build.Directory);
        Assert.True(File.Exists(Path.Combine(directory, "stargatefs.ko")));
        Assert.True(File.Exists(Path.Combine(directory, "src", "main.o")), "Kbuild builds in src/");
        Assert.Equal(Path.Combine(directory, "dkms", "stargatefs-" + ModuleInfo.Version), build.DkmsTree);
        var dkmsFiles = Directory.EnumerateFiles(build.DkmsTree, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(build.DkmsTree, f))
            .Where(f => !f.StartsWith("probes/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        Assert.Equal(["Kbuild", "Makefile", "dkms.conf", "include/stargate_zone.h", "main.c"], dkmsFiles);
        Assert.Contains("stargatefs-y := main.o", File.ReadAllText(Path.Combine(build.DkmsTree, "Kbuild")), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Build_WhenTheCDoesNotCompile_FailsWithKbuildOutput()
    {
        var headers = MatrixKernels.AnyOrSkip();
        using var scratch = new ScratchDirectory();
        ScratchTemplates.HelloModule(scratch, ScratchTemplates.HelloC.Replace("return 0;", "return no_such_thing;", StringComparison.Ordinal));

        var e = Assert.Throws<CodegenException>(() => ModuleBuilder.Build(headers, kernels.Profile(headers), new TemplateFolders(scratch.Path), Repo.ZoneHeader, scratch.Combine("out")));

        Assert.StartsWith($"Kbuild failed for {headers.Release}", e.Message, StringComparison.Ordinal);
        Assert.Contains("'no_such_thing' undeclared", e.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.Combine("out", headers.Release, "stargatefs.ko")));
    }

    [SkippableFact]
    public void Build_WhenKbuildWarns_Fails()
    {
        var headers = MatrixKernels.AnyOrSkip();
        using var scratch = new ScratchDirectory();
        ScratchTemplates.HelloModule(scratch, ScratchTemplates.HelloC.Replace("return 0;", "int unused; return 0;", StringComparison.Ordinal));
        // Without the template's -Werror, the warning reaches the output: codegen must still refuse it.
        File.WriteAllText(scratch.Combine("stargatefs", "Kbuild.sbn"), "obj-m := stargatefs.o\nstargatefs-y := {{ module.objects }}\nccflags-y += -I$(src)/include -DSTARGATEFS_VERSION=\\\"{{ module.version }}\\\"\n");

        var e = Assert.Throws<CodegenException>(() => ModuleBuilder.Build(headers, kernels.Profile(headers), new TemplateFolders(scratch.Path), Repo.ZoneHeader, scratch.Combine("out")));

        Assert.StartsWith($"Kbuild warned 1 time for {headers.Release}", e.Message, StringComparison.Ordinal);
        Assert.Contains("warning: unused variable 'unused'", e.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.Combine("out", headers.Release, "stargatefs.ko")));
    }

    /// <summary>A failed build shows what the user of the command would see.</summary>
    internal static ModuleBuild BuildOrExplain(Func<ModuleBuild> build)
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
