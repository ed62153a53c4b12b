using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// The host service dies and comes back under load: guests keep their mounts (no reboot, no
/// remount), their pending requests are answered by the new service, no acknowledged write is
/// lost, and the zone is clean. A garbage-sending guest harms neither the service nor others.
/// </summary>
public sealed class LivenessTests(ITestOutputHelper output)
{
    private const int Files = 300;

    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void ServiceKilledAndRestartedUnderLoad_LosesNoAcknowledgedWrite(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output);
        var (a, b) = (served.Guests[0], served.Guests[1]);

        // A creates and writes files in a loop; a line in /tmp/acks means that write returned.
        a.Exec("mkdir /mnt/w");
        a.Exec($"sh -c 'i=0; while [ $i -lt {Files} ]; do echo $i > /mnt/w/f$i || exit 1; echo $i >> /tmp/acks; i=$((i+1)); done; echo finished=1' >/tmp/load.out 2>&1 & echo $! >/tmp/load.pid");
        a.Exec("until [ $(cat /tmp/acks 2>/dev/null | wc -l) -ge 40 ]; do sleep 0.1; done");

        served.KillServer();
        int acked = int.Parse(a.Exec("cat /tmp/acks | wc -l").Text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        served.StartServer();

        var done = a.Exec("while kill -0 $(cat /tmp/load.pid) 2>/dev/null; do sleep 0.2; done; cat /tmp/load.out");
        a.Check(done.Find("finished") == "1", $"A's loop ran to its end across the restart (had {acked} writes acknowledged at the kill): {done}");
        var check = b.Exec($"i=0; while [ $i -lt {Files} ]; do [ \"$(cat /mnt/w/f$i)\" = \"$i\" ] || echo bad=$i; i=$((i+1)); done; echo checked=1");
        b.Check(check.Find("bad") is null, $"B reads every file A wrote, before and after the restart: {check}");

        // Both guests keep changing the namespace through the new service.
        b.Exec("echo after > /mnt/after && mv /mnt/after /mnt/after2");
        a.Check(a.Exec("cat /mnt/after2").Text == "after", "A reads what B made after the restart");
        a.Exec("rm -r /mnt/w");
        served.Finish();
    }

    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void RandomAndMalformedRequests_LeaveTheServiceAndTheOtherGuestUnharmed(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output);
        var b = served.Guests[0];
        var fuzzer = served.AddGuest(mount: false);
        b.Exec("mkdir /mnt/mine && echo before > /mnt/mine/a");

        var fuzz = fuzzer.Exec("sgtool rpcfuzz 3000 20261121");
        fuzzer.Check(fuzz["sent"] == "3000" && fuzz["answered"] == "3000", $"every fuzzed request got a reply: {fuzz.Text}");

        b.Check(b.Exec("cat /mnt/mine/a").Text == "before", "the other guest reads its file after the fuzzing");
        b.Exec("echo after > /mnt/mine/b && mv /mnt/mine/b /mnt/mine/c && rm /mnt/mine/a");
        b.Check(b.Exec("ls /mnt/mine").Lines.SequenceEqual(["c"]), "the other guest keeps changing the namespace");
        b.Check(served.Server.Peers().Count == 3, "the service still lists the host and both guests");
        served.Finish();
    }
}
