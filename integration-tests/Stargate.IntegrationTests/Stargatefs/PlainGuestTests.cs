using Stargate.Guests.Qemu;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Guests without doorbells (docs/requests.md "Guests without doorbells"): a guest on
/// ivshmem-plain maps the zone's two files directly and never talks to `stargate serve`, so it
/// has no private area, sends no requests, and no grace period waits for its mappings: it
/// mounts read-only only (a read-write mount or remount gives EROFS with one line). Beside a
/// served guest it reads, and maps, what the other writes and makes, at once; every change
/// gives EROFS; the service never lists it as a peer.
/// </summary>
public sealed class PlainGuestTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void PlainGuest_MountsReadOnlyOnly_AndReadsWhatAServedGuestWrites(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output, zone => ZoneFiles.Put(zone, "/f", new byte[8192]));
        var a = served.Guests[0];
        using var b = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(served.Zone.Path), output);
        int refusals = b.KernelLog("has no area device").Count;
        b.Check(b.MountFails() == "EROFS", "a read-write mount without an area device gives EROFS");
        b.Check(b.KernelLog("has no area device").Count == refusals + 1, "with one line that says why");
        b.MountZone(readOnly: true);
        b.Check(served.Server.Peers().All(p => p.Id != 0 || p.Kind == "host") && served.Server.Peers().Count == 2,
            "the service lists the host and the served guest only");

        a.Exec("echo hello > /mnt/new");
        b.Check(b.Exec("cat /mnt/new").Text == "hello", "the plain guest reads the served guest's new file");
        a.Exec("printf served | dd of=/mnt/f conv=notrunc 2>/dev/null");
        b.Check(b.Exec("head -c 6 /mnt/f; echo").Text == "served", "the plain guest reads the served guest's in-place write");
        var expected = new byte[8192];
        System.Text.Encoding.ASCII.GetBytes("served").CopyTo(expected, 0);
        b.Check(b.MmSum("/mnt/f") == FileSum.Of(expected), "and the same through a mapping");

        b.Check(b.Fails("sgfstest fill /mnt/f 0 5 1") == "EROFS", "an in-place write gives EROFS");
        b.Check(b.Fails("sgfstest lockappend /mnt/other 1 t") == "EROFS", "a create gives EROFS");
        b.Check(b.TryExec("mv /mnt/new /mnt/renamed").ExitCode != 0, "a rename fails");
        b.Check(b.Fails("sgfstest mount 0 /mnt remount") == "EROFS", "a remount read-write gives EROFS");
        a.Check(served.HostList("/").Order().SequenceEqual(["f", "new"]), "the plain guest changed no name");
        a.Check(ZoneFiles.Get(served.Zone, "/f").AsSpan().SequenceEqual(expected), "nor any byte");

        b.Finish();
        served.Finish();
    }
}
