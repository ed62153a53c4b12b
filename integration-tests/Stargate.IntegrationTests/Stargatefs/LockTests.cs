using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// flock() and fcntl() locks on stargatefs files hold across guests and the host: two guests
/// appending records under a lock lose none, a held lock keeps the others out, and a guest
/// killed while holding one frees it.
/// </summary>
public sealed class LockTests(ITestOutputHelper output)
{
    private const int Records = 150;

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void TwoGuestsAppendingUnderALock_LoseNoRecord(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output);
        var (a, b) = (served.Guests[0], served.Guests[1]);
        foreach (string kind in new[] { "flock", "posix" })
        {
            string log = $"/mnt/{kind}.log";
            a.Exec($": > {log}");
            Start(a, $"sgfstest lockappend {log} {Records} A {kind}", "appendA");
            Start(b, $"sgfstest lockappend {log} {Records} B {kind}", "appendB");
            a.Check(Finish(a, "appendA")["records"] == $"{Records}", $"A appended its {Records} records under {kind}");
            b.Check(Finish(b, "appendB")["records"] == $"{Records}", $"B appended its {Records} records under {kind}");
            b.Check(b.Exec($"sgfstest checkrecords {log} A {Records} B {Records}")["records"] == $"{2 * Records}",
                $"every record of both guests is in {log}, whole, once, in order ({kind})");
            int length = ZoneFiles.Get(served.Zone, $"/{kind}.log").Length;
            a.Check(length == 2 * Records * 32, $"the host reads {length} bytes of {kind}.log, expected {2 * Records * 32}");
        }

        served.Finish();
    }

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void HeldLock_KeepsOtherGuestsAndTheHostOut_AndAKilledHolderFreesIt(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 3, output);
        var (a, b, c) = (served.Guests[0], served.Guests[1], served.Guests[2]);
        a.Exec(": > /mnt/f && : > /mnt/g");
        a.Background("sgfstest lockhold /mnt/f flock", "locked=1");
        a.Background("sgfstest lockhold /mnt/g posix", "locked=1");

        // Exclusive locks keep B and the host out.
        b.Check(b.Fails("sgfstest trylock /mnt/f flock") is "EWOULDBLOCK" or "EAGAIN", "B cannot flock what A holds");
        b.Check(b.Fails("sgfstest trylock /mnt/g posix") is "EWOULDBLOCK" or "EAGAIN" or "EACCES", "B cannot fcntl-lock what A holds");
        var hostTry = StargateCli.Run("lock", served.Zone.Path, "/f", "--", "true");
        b.Check(hostTry.ExitCode != 0, $"the host cannot lock what A holds: {hostTry}");

        // C holds a shared lock on a third file; shared with B, not with the host's exclusive one.
        c.Exec(": > /mnt/s");
        string shared = c.Background("sgfstest lockhold /mnt/s flock shared", "locked=1");
        b.Check(b.Exec("sgfstest trylock /mnt/s flock shared")["locked"] == "1", "B shares C's shared lock");

        // A dies holding both locks: the host frees them, and B gets them.
        a.Qemu.KillHard();
        served.Server.WaitForPeers(peers => peers.Count == 3, "the killed guest gone");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        GuestReply got;
        while ((got = b.TryExec("sgfstest trylock /mnt/f flock && sgfstest trylock /mnt/g posix")).ExitCode != 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(250);
        }

        b.Check(got.ExitCode == 0, $"B takes the locks the killed guest held: {got}");
        var hostLock = StargateCli.Run("lock", served.Zone.Path, "/f", "--", "true");
        b.Check(hostLock.ExitCode == 0, $"the host takes the lock too: {hostLock}");
        c.Exec($"kill $(cat /tmp/{shared}.pid)");
        c.Join(shared);
        served.Finish();
    }

    private static void Start(StargatefsGuest guest, string command, string name) =>
        guest.Exec($"{command} >/tmp/{name}.out 2>&1 & echo $! >/tmp/{name}.pid");

    /// <summary>Waits for a command started by <see cref="Start"/> to end; its output must end well.</summary>
    private static GuestReply Finish(StargatefsGuest guest, string name) =>
        guest.Exec($"while kill -0 $(cat /tmp/{name}.pid) 2>/dev/null; do sleep 0.2; done; cat /tmp/{name}.out; ! grep -q error= /tmp/{name}.out");
}
