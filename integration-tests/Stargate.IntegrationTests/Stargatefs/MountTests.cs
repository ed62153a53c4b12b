using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// The module's life cycle: it binds every ivshmem device (plain and doorbell), mounts each
/// by index or PCI address, read-only too (a zone with no area device, ivshmem-plain, only
/// read-only), and unmount, rmmod, insmod, mount again all work, with crc32c computed either
/// way the module offers (crc=sse4.2, crc=slice-by-8; by default the faster one here).
/// </summary>
public sealed class MountTests(ITestOutputHelper output)
{
    private const string CrcParameter = "/sys/module/stargatefs/parameters/crc";

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void TwoZonesInOneGuest_EachMounts_AndUnmountRmmodInsmodMountCycles(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var plain = TestZone.InShm();
        using var served = TestZone.InShm();
        byte[] first = HostData.Random(5000, 41), second = HostData.Random(7000, 42);
        ZoneFiles.Put(plain, "/first", first);
        ZoneFiles.Put(served, "/second", second);
        using var server = StargateServer.Start(served.Path, vectors: 2);
        var devices = QemuDevices.IvshmemPlain(plain.Path, id: "zone0")
            .Concat(QemuDevices.IvshmemDoorbell(server.ZonePath, server.SocketPath, server.Vectors, id: "zone1"))
            .ToList();

        using var guest = StargatefsGuest.Start(kernel, devices, output);
        string[] addresses = guest.Exec("echo $SG_DEVS").Lines.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        guest.Check(addresses.Length == 5, $"five ivshmem devices, each zone's data device then its structure device, and the served zone's area device: {string.Join(' ', addresses)}");

        // A structure or area device is no mount source: only data devices have indexes.
        string refused = guest.MountFails(addresses[1], "/mnt/a");
        guest.Check(refused.Length > 0, $"mounting a structure device by its address fails: {refused}");
        refused = guest.MountFails(addresses[4], "/mnt/a");
        guest.Check(refused.Length > 0, $"mounting an area device by its address fails: {refused}");

        // By index, in bind order of the data devices (the PCI addresses in order): the plain zone is
        // the first. It has no area device, so it mounts read-only only.
        int refusals = guest.KernelLog("has no area device").Count;
        guest.Check(guest.MountFails("0", "/mnt/a") == "EROFS", "a read-write mount of the plain zone is refused with EROFS");
        guest.Check(guest.KernelLog("has no area device").Count == refusals + 1, "the refusal logs one line that says why");
        guest.MountZone("0", "/mnt/a", readOnly: true);
        guest.MountZone("1", "/mnt/b");
        guest.AssertReads("/mnt/a/first", FileSum.Of(first));
        guest.AssertReads("/mnt/b/second", FileSum.Of(second));
        string chosen = guest.Exec($"cat {CrcParameter}").Lines[0];
        guest.Check(chosen is "sse4.2" or "slice-by-8", $"the module took one of its crc32c ways: {chosen}");
        guest.Check(guest.KernelLog($"crc32c by {chosen}").Count == 1, "and logged which, once");
        guest.Unmount("/mnt/a");
        guest.Unmount("/mnt/b");
        guest.Rmmod();

        // Each way checks every inode and entry read below (a wrong crc would fail the reads with EIO).
        guest.Check(guest.TryExec($"insmod {StargatefsGuest.ModulePath} crc=crc32").ExitCode != 0, "crc=crc32 is refused at load");
        guest.Insmod("crc=sse4.2");
        guest.Check(guest.Exec($"cat {CrcParameter}").Lines[0] == "sse4.2", "crc=sse4.2 takes the instruction");
        guest.MountZone(addresses[2], "/mnt/b");
        guest.AssertReads("/mnt/b/second", FileSum.Of(second));
        guest.MountZone(addresses[0], "/mnt/a", readOnly: true);
        guest.AssertReads("/mnt/a/first", FileSum.Of(first));
        guest.Check(guest.Fails("sgfstest fill /mnt/a/first 0 10 1") == "EROFS", "a write on a read-only mount fails with EROFS");
        guest.Unmount("/mnt/a");
        guest.Unmount("/mnt/b");
        guest.Rmmod();

        guest.Insmod("crc=slice-by-8");
        guest.Check(guest.Exec($"cat {CrcParameter}").Lines[0] == "slice-by-8", "crc=slice-by-8 takes the tables");
        guest.MountZone("0", "/mnt/a", readOnly: true);
        guest.AssertReads("/mnt/a/first", FileSum.Of(first));
        guest.Check(guest.Fails("sgfstest mount 0 /mnt/a remount") == "EROFS", "a remount read-write (remount without ro) of the plain zone is refused with EROFS");
        guest.Check(guest.Fails("sgfstest fill /mnt/a/first 0 10 1") == "EROFS", "and it stays read-only");
        guest.Finish();
    }
}
