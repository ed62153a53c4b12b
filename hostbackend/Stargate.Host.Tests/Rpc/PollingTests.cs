using Stargate.Host.Service;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// Polling for replies (docs/requests.md "Polling"): a guest that keeps sleepers is rung after
/// a reply only while one of its waiters sleeps, one without the flag after every reply, and
/// its own lock waiters are rung even when its reply was not; the loop's poll window adapts;
/// the service's time per step is counted.
/// </summary>
public class PollingTests
{
    [Fact]
    public void AGuestWithoutTheSleepersFlag_IsRungAfterEveryReply()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(2);
        guest.AreaHeader.Sleepers = 0;
        bench.CreateFile(guest, "a", bench.SharedDirectory("d"));
        Assert.Equal([2], bench.Rings);
    }

    [Fact]
    public void AGuestThatKeepsSleepers_IsRungOnlyWhileOneOfItsWaitersSleeps()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        guest.AreaHeader.GuestFlags = SgzAbi.RingGuestSleepers;

        bench.CreateFile(guest, "polled", dir);
        Assert.Empty(bench.Rings);
        Assert.NotNull(bench.Zone.Names.Stat("/d/polled"));

        guest.AreaHeader.Sleepers = 1;
        bench.CreateFile(guest, "slept", dir);
        Assert.Equal([2], bench.Rings);

        // A hostile count only changes whether that guest is rung: 2^32 - 1 sleepers is one more ring.
        guest.AreaHeader.Sleepers = uint.MaxValue;
        bench.CreateFile(guest, "hostile", dir);
        Assert.Equal([2, 2], bench.Rings);
    }

    [Fact]
    public void AGuestNotRungForItsReply_IsStillRungForItsOwnLockWaiters()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        guest.AreaHeader.GuestFlags = SgzAbi.RingGuestSleepers;
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(0u, bench.Call(guest, Req.Lock(file, SgzAbi.LockWrite, 0, 10, owner: 1, pid: 1)).Status);
        Assert.Equal((uint)Interop.Native.Errno.EAGAIN, bench.Call(guest, Req.Lock(file, SgzAbi.LockWrite, 0, 10, owner: 2, pid: 2, flags: SgzAbi.ReqLockWait)).Status);
        Assert.Empty(bench.Rings);

        Assert.Equal(0u, bench.Call(guest, Req.Lock(file, SgzAbi.LockUnlock, 0, 10, owner: 1, pid: 1)).Status);
        Assert.Equal([1], bench.Rings);
    }

    [Fact]
    public void TheServiceCountsItsTimeInEachStep_PerGuest()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var b = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        for (int i = 0; i < 3; i++)
        {
            bench.CreateFile(a, $"a{i}", dir);
        }

        bench.CreateFile(b, "b", dir);
        var cost = bench.Server.Latency.CostOf(1);
        Assert.NotNull(cost);
        Assert.Equal(3, cost.Requests);
        Assert.True(cost.ChangeNs > 0, $"change {cost.ChangeNs} ns");
        Assert.True(cost.PickupNs >= 0 && cost.ReplyNs > 0, $"pickup {cost.PickupNs} ns, reply {cost.ReplyNs} ns");
        Assert.Equal(1, bench.Server.Latency.CostOf(2)!.Requests);
        Assert.Null(bench.Server.Latency.CostOf(3));

        bench.Server.PeerGone(1);
        Assert.Null(bench.Server.Latency.CostOf(1));
    }

    [Fact]
    public void AwaitPending_SeesAPendingRequest_AndGivesUpAtItsDeadline()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.False(bench.Server.AwaitPending(now + (System.Diagnostics.Stopwatch.Frequency / 1000)));

        guest.Send(0, Req.Create(bench.SharedDirectory("d"), "f"));
        Assert.True(bench.Server.AwaitPending(now));
        bench.Serve();
        Assert.False(bench.Server.AwaitPending(now));
    }

    [Fact]
    public void PollWindow_OpensWhenRequestsComeCloseTogether_AndClosesWhenTheyDoNot()
    {
        var window = new PollWindow(800);
        Assert.Equal(0, window.Ticks);

        window.Slept(5_000); // late: stays shut
        Assert.Equal(0, window.Ticks);
        window.Slept(300); // a window of at most 800 would have caught it
        Assert.Equal(100, window.Ticks);
        window.Found();
        Assert.Equal(200, window.Ticks);
        window.Found();
        window.Found();
        window.Found();
        Assert.Equal(800, window.Ticks);

        window.Slept(900);
        Assert.Equal(400, window.Ticks);
        window.Slept(900);
        window.Slept(900);
        Assert.Equal(100, window.Ticks);
        window.Slept(900);
        Assert.Equal(0, window.Ticks);
    }

    [Fact]
    public void PollWindow_OfZero_NeverOpens()
    {
        var window = new PollWindow(0);
        window.Slept(1);
        window.Found();
        Assert.Equal(0, window.Ticks);
    }
}
