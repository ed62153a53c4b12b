using Stargate.Guests.Qemu;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Guests without doorbells (docs/requests.md "Guests without doorbells"): a guest on
/// ivshmem-plain maps the zone's two files directly and never talks to `stargate serve`, so it
/// has no private area and sends no requests (format 2.1). Beside a served guest it reads
/// what the other made, writes in place into allocated space (seen by the host and the other
/// guest), and gets EROFS for every namespace change and ENOLCK for locks; the service never
/// lists it as a peer.
/// </summary>
public sealed class PlainGuestTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void PlainGuest_ReadsAndWritesInPlace_ButSendsNoRequests(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output, zone => ZoneFiles.Put(zone, "/f", new byte[8192]));
        var a = served.Guests[0];
        using var b = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(served.Zone.Path), output);
        b.MountZone();
        b.Check(served.Server.Peers().All(p => p.Id != 0 || p.Kind == "host") && served.Server.Peers().Count == 2,
            "the service lists the host and the served guest only");

        a.Exec("echo hello > /mnt/new");
        b.Check(b.Exec("cat /mnt/new").Text == "hello", "the plain guest reads the served guest's new file");

        b.Exec("printf plain | dd of=/mnt/f conv=notrunc 2>/dev/null");
        a.Check(a.Exec("head -c 5 /mnt/f; echo").Text == "plain", "the served guest reads the plain guest's in-place write");
        b.Check(System.Text.Encoding.ASCII.GetString(ZoneFiles.Get(served.Zone, "/f").AsSpan(0, 5)) == "plain", "the host reads the in-place write");

        b.Check(b.Fails("sgfstest lockappend /mnt/other 1 t") == "EROFS", "a create gives EROFS");
        b.Check(b.TryExec("mv /mnt/new /mnt/renamed").ExitCode != 0, "a rename fails");
        b.Check(b.Fails("sgfstest trylock /mnt/f posix") == "ENOLCK", "a lock gives ENOLCK");
        a.Check(served.HostList("/").Order().SequenceEqual(["f", "new"]), "the plain guest changed no name");

        b.Finish();
        served.Finish();
    }
}
