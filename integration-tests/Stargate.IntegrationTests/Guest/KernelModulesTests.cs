namespace Stargate.IntegrationTests.Guest;

/// <summary>Modules of a kernel's own tree, resolved on the host with modprobe (no QEMU): found with their dependencies, or refused by name.</summary>
public sealed class KernelModulesTests
{
    [SkippableFact]
    public void Resolve_OnTheDefaultKernel_GivesDependenciesFirst()
    {
        string? release = KernelMatrix.Default?.InstalledRelease;
        Skip.If(release is null, "no generic kernel of the matrix is installed");

        var files = KernelModules.Resolve(release!, ["9p"]);

        Assert.EndsWith("/9p.ko.xz", files[^1], StringComparison.Ordinal);
        Assert.Contains(files, f => f.EndsWith("/9pnet.ko.xz", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Resolve_OfAModuleTheCloudFlavorLacks_FailsNamingTheModuleAndTheKernel()
    {
        var cloud = KernelMatrix.Kernels.FirstOrDefault(k => k.Flavor == "cloud" && k.InstalledRelease is { } r && Directory.Exists($"/lib/modules/{r}"));
        Skip.If(cloud is null, "no cloud kernel of the matrix is installed");

        var e = Assert.Throws<GuestException>(() => KernelModules.Resolve(cloud!.InstalledRelease!, ["virtio_net", "9p"]));

        Assert.Equal($"kernel {cloud.InstalledRelease} (kernel {cloud.Id} of the matrix) has no module 9p, built in or in /lib/modules/{cloud.InstalledRelease}: that flavor lacks it; boot another kernel", e.Message);
    }
}
