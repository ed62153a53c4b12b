using System.Collections.Concurrent;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Probes;

namespace Stargate.Codegen.Tests.Support;

/// <summary>
/// Probing a kernel is one Kbuild run of several seconds: each kernel is probed once per test
/// run, and every test of the "kernels" collection shares the result.
/// </summary>
public sealed class KernelFixture
{
    private readonly ConcurrentDictionary<string, Lazy<KernelProfile>> profiles = new(StringComparer.Ordinal);

    /// <summary>The real probes' names.</summary>
    internal IReadOnlyList<string> Probes { get; } = ProbeScript.Names(Repo.Folders.Probes);

    internal KernelProfile Profile(KernelHeaders headers) =>
        profiles.GetOrAdd(headers.Directory, _ => new Lazy<KernelProfile>(() => KernelProber.Probe(headers, Repo.Folders.Probes).Profile)).Value;
}

[CollectionDefinition(Name)]
public sealed class SharedKernels : ICollectionFixture<KernelFixture>, ICollectionFixture<ModuleBuilds>
{
    public const string Name = "kernels";
}
