using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// Who is a peer is the host's own knowledge: a guest that writes the zone's peer table
/// (zone format 1 lets it) neither makes a slot a peer the host serves nor takes a live
/// peer's slot away.
/// </summary>
public class PeerIdentityTests
{
    [Fact]
    public void SlotMarkedLiveByAGuestInTheZone_IsNotServed()
    {
        using var bench = new RpcBench();
        using var forger = new TestGuest(bench.Temp.Path, bench.Zone.Geometry, 5);
        Volatile.Write(ref bench.Zone.Peers.Record(5).State, (uint)SgzAbi.PeerLive);
        ulong seq = forger.Send(0, Req.Create(bench.SharedDirectory("shared"), "forged"));

        Assert.Equal(0, bench.Serve());
        Assert.False(forger.IsDone(0, seq));
        Assert.False(bench.Zone.Peers.IsLive(5));
        Assert.DoesNotContain(5, bench.Zone.Peers.LiveGuests());
    }

    [Fact]
    public void LiveSlotMarkedFreeByAGuestInTheZone_StaysLiveAndServed()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(3);
        Volatile.Write(ref bench.Zone.Peers.Record(3).State, (uint)SgzAbi.PeerFree);
        bench.Zone.Peers.Record(3).Pid = 1;

        Assert.Equal(0u, bench.Call(guest, Req.Create(bench.SharedDirectory("shared"), "served")).Status);
        Assert.True(bench.Zone.Peers.IsLive(3));
        Assert.Equal((ulong)Environment.ProcessId, bench.Zone.Peers.Pid(3));
        Assert.Contains(3, bench.Zone.Peers.LiveGuests());
    }
}
