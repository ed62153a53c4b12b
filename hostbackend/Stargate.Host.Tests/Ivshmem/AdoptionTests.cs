using System.Diagnostics;
using Stargate.Host.Tests.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>
/// A service that starts on a zone a previous service left: guests whose QEMU still
/// runs are adopted and served by polling, dead ones are cleaned up, and an adopted
/// guest whose process dies later departs.
/// </summary>
public class AdoptionTests
{
    [Fact]
    public void LiveGuestIsAdoptedAndServedWithoutDoorbells_DeadOneIsCleanedUp_AndNewQemusGetOtherIds()
    {
        int dead = ExitedChildPid();
        using var server = new RunningServer(prepare: zone =>
        {
            zone.Peers.Set(2, live: true, (ulong)Environment.ProcessId);
            zone.Peers.Set(3, live: true, (ulong)dead);
            zone.Memory.Span(RingOffset(zone, 3), SgzAbi.RingBytes).Fill(0x5a);
        });

        Assert.Equal(SgzAbi.PeerLive, (int)server.Opened.Peers.Record(2).State);
        Assert.Equal(SgzAbi.PeerFree, (int)server.Opened.Peers.Record(3).State);
        Assert.False(server.Opened.Memory.Span(RingOffset(server.Opened, 3), SgzAbi.RingBytes).ContainsAnyExcept((byte)0), "the dead guest's area is zeroed");
        server.Log.WaitFor($"peer 2 adopted: its QEMU (pid {Environment.ProcessId}) still runs");
        server.Log.WaitFor($"peer 3: a previous service left it live, but its QEMU (pid {dead}) is gone");

        using var guest = new TestGuest(server.Zone.Path, server.Opened.Geometry, 2);
        ulong epoch = guest.Header.HostEpoch;
        Assert.True(epoch >= 1, "an adopted guest's area tells it a new service started");
        ulong seq = guest.Send(0, Req.Nop());
        IvshmemServerTests.Eventually(() => guest.IsDone(0, seq), "the adopted guest's request is answered by polling");

        var row = server.Server.Peers().Single(p => p.Id == 2);
        Assert.Equal("guest", row.Kind);
        Assert.Equal(Environment.ProcessId, row.Pid);

        using var first = new ProtocolClient(server.Socket, 2);
        using var second = new ProtocolClient(server.Socket, 2);
        Assert.Equal([1, 3], new[] { first.Id, second.Id });
    }

    [Fact]
    public void AdoptedGuestWhoseQemuExits_DepartsWithinAPidCheck()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            using var server = new RunningServer(prepare: zone => zone.Peers.Set(4, live: true, (ulong)sleeper.Id));
            Assert.Equal(SgzAbi.PeerLive, (int)server.Opened.Peers.Record(4).State);
            sleeper.Kill();
            sleeper.WaitForExit();
            IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(4).State == SgzAbi.PeerFree, "the adopted guest's slot is freed");
            server.Log.WaitFor($"peer 4 (pid {sleeper.Id}) left (its QEMU process is gone)");
            Assert.DoesNotContain(server.Server.Peers(), p => p.Id == 4);
        }
        finally
        {
            if (!sleeper.HasExited)
            {
                sleeper.Kill();
            }
        }
    }

    private static ulong RingOffset(Zone zone, int slot) => zone.Geometry.RingAreaOffset(slot);

    private static int ExitedChildPid()
    {
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit();
        return child.Id;
    }
}
