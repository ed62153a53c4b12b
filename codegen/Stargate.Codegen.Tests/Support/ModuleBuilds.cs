using System.Collections.Concurrent;
using Stargate.Codegen.Kbuild;
using Stargate.Codegen.Kernel;

namespace Stargate.Codegen.Tests.Support;

/// <summary>
/// The real module built by codegen once per kernel and test run (about half a minute each), for
/// the tests that check the build and those that compare the DKMS tree's own build with it.
/// Removed when the run ends.
/// </summary>
public sealed class ModuleBuilds : IDisposable
{
    private readonly ScratchDirectory scratch = new();
    private readonly ConcurrentDictionary<string, Lazy<ModuleBuild>> builds = new(StringComparer.Ordinal);

    internal ModuleBuild Build(KernelHeaders headers, KernelFixture kernels) =>
        builds.GetOrAdd(headers.Release, _ => new Lazy<ModuleBuild>(() =>
            ModuleBuilder.Build(headers, kernels.Profile(headers), Repo.Folders, Repo.ZoneHeader, scratch.Path))).Value;

    public void Dispose() => scratch.Dispose();
}
