using System.Globalization;
using Stargate.Codegen.Probes;
using Stargate.Codegen.Tests.Support;
using Stargate.Testing;

namespace Stargate.Codegen.Tests;

/// <summary>
/// The DKMS tree codegen writes, built by itself on each kernel as DKMS builds it (no codegen, no
/// .NET: its Makefile configures, then Kbuild), against the module codegen built for that kernel.
/// </summary>
[Collection(SharedKernels.Name)]
public sealed class DkmsTests(KernelFixture kernels, ModuleBuilds builds)
{
    [SkippableTheory]
    [MemberData(nameof(MatrixKernels.Ids), MemberType = typeof(MatrixKernels))]
    public void DkmsTree_BuiltAsDkmsDoes_WritesCodegensHeaderAndAnEqualModule(string id)
    {
        var headers = MatrixKernels.OpenOrSkip(id);
        var codegen = BuildTests.BuildOrExplain(() => builds.Build(headers, kernels));
        using var scratch = new ScratchDirectory();

        // `dkms build` copies the tree to $dkms_tree/NAME/VERSION/build, sources dkms.conf with
        // bash (kernel_source_dir and dkms_tree set) and runs MAKE[0] with its leading make made
        // `make -jN KERNELRELEASE=RELEASE`.
        string build = scratch.Combine("stargatefs", ModuleInfo.Version, "build");
        Copy(codegen.DkmsTree, build);
        string modulesBuild = $"/lib/modules/{headers.Release}/build";
        string kernelSource = Directory.Exists(modulesBuild) ? modulesBuild : headers.Directory;
        var dkms = ProcessRunner.Run(
            "bash",
            ["-c", """set -e; . ./dkms.conf; make_command="${MAKE[0]/#make/make -j2 KERNELRELEASE=$kernelver}"; echo "$make_command"; eval "$make_command" """],
            TimeSpan.FromMinutes(10),
            build,
            new Dictionary<string, string> { ["kernelver"] = headers.Release, ["kernel_source_dir"] = kernelSource, ["dkms_tree"] = scratch.Path });

        Assert.True(dkms.ExitCode == 0, dkms.ToString());
        Assert.DoesNotContain("warning:", dkms.Stdout + dkms.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(
            File.ReadAllText(Path.Combine(codegen.Directory, "src", ProbeScript.ConfigHeader)),
            File.ReadAllText(Path.Combine(build, ProbeScript.ConfigHeader)));
        string module = Path.Combine(build, ModuleInfo.Name + ".ko");
        Assert.Equal(ModInfo(codegen.Module), ModInfo(module));
        Assert.Equal(Symbols(codegen.Module, "--defined-only"), Symbols(module, "--defined-only"));
        Assert.Equal(Symbols(codegen.Module, "--undefined-only"), Symbols(module, "--undefined-only"));
    }

    /// <summary>Every modinfo field but the file's name.</summary>
    private static List<string> ModInfo(string module) =>
        Lines(ProcessRunner.RunChecked("modinfo", [module])).Where(line => !line.StartsWith("filename:", StringComparison.Ordinal)).ToList();

    /// <summary>The symbols' types and names, sorted; not their addresses.</summary>
    private static List<string> Symbols(string module, string which) =>
        Lines(ProcessRunner.RunChecked("nm", [which, module]))
            .Select(line => line.Length > 17 && line[16] == ' ' ? line[17..] : line.TrimStart())
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string[] Lines(ProcessRunner.Result result) => result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        Assert.True(Directory.Exists(to), string.Create(CultureInfo.InvariantCulture, $"{from} is empty"));
    }
}
