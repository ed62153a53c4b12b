using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Guests without doorbells (docs/requests.md "Guests without doorbells"): two guests on
/// ivshmem-plain, which map the zone file directly and never talk to `stargate serve`,
/// claim a slot each and change the namespace through requests found by polling; the
/// host and the other guest see every step.
/// </summary>
public sealed class PlainGuestTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void TwoPlainGuests_CreateWriteRenameAndDelete_AndTheHostSeesEachStep(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output, plain: true);
        var (a, b) = (served.Guests[0], served.Guests[1]);
        var peers = served.Server.WaitForPeers(p => p.Count(x => x.Kind == "plain") == 2, "both plain guests as peers");
        a.Check(peers.Where(p => p.Kind == "plain").All(p => p.Pid == 0 && p.Vectors == 0), "plain peers have no process and no doorbells");

        a.Exec("echo hello > /mnt/f");
        served.AssertHostReads("/f", "hello\n");
        b.Check(b.Exec("cat /mnt/f").Text == "hello", "B reads A's new file");

        b.Exec("mv /mnt/f /mnt/g");
        a.Check(a.Fails("sgfstest sum /mnt/f") == "ENOENT", "A no longer finds the file under its old name");
        a.Check(a.Exec("cat /mnt/g").Text == "hello", "A reads the file under B's new name");
        a.Check(served.HostList("/").SequenceEqual(["g"]), "the host lists the renamed file under its new name only");
        served.AssertHostReads("/g", "hello\n");

        b.Exec("rm /mnt/g");
        a.Check(a.Exec("ls -A /mnt").Lines.Count == 0, "A lists an empty root after B's delete");
        a.Check(served.HostList("/").Count == 0, "the host lists an empty root");

        served.Finish();
    }
}
