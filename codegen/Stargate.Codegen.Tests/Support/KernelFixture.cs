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

    internal ProbeSet Probes { get; } = ProbeSet.Load(Repo.Folders.Probes);

    internal KernelProfile Profile(KernelHeaders headers) =>
        profiles.GetOrAdd(headers.Directory, _ => new Lazy<KernelProfile>(() => KernelProber.Probe(headers, Probes))).Value;
}

[CollectionDefinition(Name)]
public sealed class SharedKernels : ICollectionFixture<KernelFixture>
{
    public const string Name = "kernels";
}
