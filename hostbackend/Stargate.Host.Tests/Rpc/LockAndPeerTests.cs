using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Rpc;

/// <summary>flock and fcntl locks through LOCK and GETLK, waiters rung, and what a dead peer leaves behind.</summary>
public class LockAndPeerTests
{
    [Fact]
    public void ConflictingLock_IsRefusedWithTheHolder_AndAWaiterIsRungWhenItGoes()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var b = bench.Guest(2);
        var file = bench.CreateFile(a, "f", bench.SharedDirectory("d"));

        Assert.Equal(0u, bench.Call(a, Req.Lock(file, SgzAbi.LockWrite, 100, 50, owner: 11, pid: 501)).Status);
        bench.Rings.Clear();
        var refused = bench.Call(b, Req.Lock(file, SgzAbi.LockRead, 120, 0, owner: 22, pid: 602, flags: SgzAbi.ReqLockWait));
        Assert.Equal((uint)Errno.EAGAIN, refused.Status);
        Assert.Equal((uint)SgzAbi.LockWrite, refused.LockType);
        Assert.Equal(501u, refused.LockPid);
        Assert.Equal(100ul, refused.LockStart);
        Assert.Equal(149ul, refused.LockEnd);
        Assert.Equal([2], bench.Rings);

        var probe = bench.Call(b, Req.Lock(file, SgzAbi.LockWrite, 0, 0, owner: 22, pid: 602, opcode: SgzAbi.OpGetlk));
        Assert.Equal(0u, probe.Status);
        Assert.Equal((uint)SgzAbi.LockWrite, probe.LockType);
        Assert.Equal(501u, probe.LockPid);

        // Unrelated bytes do not conflict.
        Assert.Equal(0u, bench.Call(b, Req.Lock(file, SgzAbi.LockWrite, 0, 100, owner: 22, pid: 602)).Status);

        bench.Rings.Clear();
        Assert.Equal(0u, bench.Call(a, Req.Lock(file, SgzAbi.LockUnlock, 100, 50, owner: 11, pid: 501)).Status);
        Assert.Equal([1, 2], bench.Rings.Order());
        Assert.Equal(0u, bench.Call(b, Req.Lock(file, SgzAbi.LockRead, 120, 0, owner: 22, pid: 602)).Status);
    }

    [Fact]
    public void Flock_ConflictsOnTheWholeFile_AndGetlkReportsNoneWhenFree()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var b = bench.Guest(2);
        var file = bench.CreateFile(a, "f", bench.SharedDirectory("d"));
        var free = bench.Call(b, Req.Lock(file, SgzAbi.LockWrite, 0, 0, owner: 2, pid: 2, flags: SgzAbi.ReqLockFlock, opcode: SgzAbi.OpGetlk));
        Assert.Equal(0u, free.Status);
        Assert.Equal((uint)SgzAbi.LockUnlock, free.LockType);

        Assert.Equal(0u, bench.Call(a, Req.Lock(file, SgzAbi.LockRead, 0, 0, owner: 1, pid: 1, flags: SgzAbi.ReqLockFlock)).Status);
        Assert.Equal(0u, bench.Call(b, Req.Lock(file, SgzAbi.LockRead, 0, 0, owner: 2, pid: 2, flags: SgzAbi.ReqLockFlock)).Status);
        Assert.Equal((uint)Errno.EAGAIN, bench.Call(b, Req.Lock(file, SgzAbi.LockWrite, 0, 0, owner: 2, pid: 2, flags: SgzAbi.ReqLockFlock)).Status);
    }

    [Fact]
    public void HostLocks_ShareTheTableWithGuests()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var file = bench.CreateFile(a, "f", bench.SharedDirectory("d"));
        Assert.Null(bench.Server.HostLock(file, new LockRange(SgzAbi.LockKindPosix, SgzAbi.LockWrite, 0, SgzAbi.LockEof), owner: 9, pid: 99));
        var refused = bench.Call(a, Req.Lock(file, SgzAbi.LockRead, 0, 1, owner: 1, pid: 1, flags: SgzAbi.ReqLockWait));
        Assert.Equal((uint)Errno.EAGAIN, refused.Status);
        Assert.Equal(99u, refused.LockPid);

        bench.Rings.Clear();
        Assert.Equal(1, bench.Server.HostUnlockAll(9));
        Assert.Equal([1], bench.Rings);
        Assert.Equal(0u, bench.Call(a, Req.Lock(file, SgzAbi.LockRead, 0, 1, owner: 1, pid: 1)).Status);
    }

    [Fact]
    public void UnlinkedFileOpenInAGuest_StaysAsAnOrphan_UntilItsRelease()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var file = bench.CreateFile(a, "f", dir);
        a.SetOpen(17, file, 1);

        Assert.Equal(0u, bench.Call(a, Req.Unlink(dir, "f")).Status);
        Assert.True(bench.Zone.Orphans.IsOrphan(file.Ino));
        Assert.Empty(bench.Zone.Names.ReadDirectory("/d"));

        a.SetOpen(17, file, 0);
        Assert.Equal(0u, bench.Call(a, Req.Release(file)).Status);
        Assert.False(bench.Zone.Orphans.IsOrphan(file.Ino));
        Assert.Equal(Estale, bench.Call(a, Req.SetSize(file, 1)).Status);
        bench.AssertFsckClean();
    }

    [Fact]
    public void DeadPeer_LosesItsLocksLockWordsOrphansAndArea_AndTheWaitersAreRung()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var b = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        var held = bench.CreateFile(b, "held", dir);
        var orphan = bench.CreateFile(b, "orphan", dir);
        var mine = bench.CreateFile(a, "mine", dir);
        Assert.Equal(0u, bench.Call(b, Req.Lock(held, SgzAbi.LockWrite, 0, 0, owner: 5, pid: 55)).Status);
        Assert.Equal((uint)Errno.EAGAIN, bench.Call(a, Req.Lock(held, SgzAbi.LockWrite, 0, 0, owner: 1, pid: 1, flags: SgzAbi.ReqLockWait)).Status);
        b.SetOpen(0, orphan, 2);
        Assert.Equal(0u, bench.Call(b, Req.Unlink(dir, "orphan")).Status);
        Assert.True(bench.Zone.Orphans.IsOrphan(orphan.Ino));
        b.InodeLockWord(held.Ino) = 3 | SgzAbi.IlockWaiters;
        a.InodeLockWord(mine.Ino) = 2;
        b.Send(3, Req.Create(dir, "never"));

        bench.Rings.Clear();
        bench.Server.PeerGone(2);

        Assert.Equal(SgzAbi.PeerFree, (int)bench.Zone.Peers.Record(2).State);
        Assert.Equal(0ul, a.InodeLockWord(held.Ino));
        Assert.Equal(2ul, a.InodeLockWord(mine.Ino));
        Assert.False(bench.Zone.Orphans.IsOrphan(orphan.Ino));
        Assert.Equal([1], bench.Rings);
        Assert.Equal(0, bench.Serve());
        Assert.DoesNotContain(bench.Zone.Names.ReadDirectory("/d"), e => e.Name == "never");
        var area = bench.Zone.Memory.Span(bench.Zone.Geometry.RingAreaOffset(2), bench.Zone.Geometry.RingBytes);
        Assert.False(area.ContainsAnyExcept((byte)0), "the dead peer's area is zeroed");
        Assert.Equal(0u, bench.Call(a, Req.Lock(held, SgzAbi.LockWrite, 0, 0, owner: 1, pid: 1)).Status);
        a.InodeLockWord(mine.Ino) = 0;
        bench.AssertFsckClean();
    }

    [Fact]
    public void OrphanHeldByTwoGuests_SurvivesTheFirstsDeath()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var b = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        var file = bench.CreateFile(a, "f", dir);
        a.SetOpen(5, file, 1);
        b.SetOpen(300, file, 1);
        Assert.Equal(0u, bench.Call(a, Req.Unlink(dir, "f")).Status);

        bench.Server.PeerGone(2);
        Assert.True(bench.Zone.Orphans.IsOrphan(file.Ino));
        bench.Server.PeerGone(1);
        Assert.False(bench.Zone.Orphans.IsOrphan(file.Ino));
    }

    private const uint Estale = 116;
}
