using System.Diagnostics;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// The service's loop thread never waits on a guest: a request whose change meets a guest's
/// hold on an inode (its lock word, in the inode's hint: format 2 guests cannot touch the
/// inode's own seqcount, which is in the read-only structure file) is put aside and tried again
/// on later passes, other guests are served meanwhile, and after
/// <see cref="RequestServer.GuestHoldLimit"/> it is answered EBUSY, undone.
/// </summary>
public class GuestHoldTests
{
    [Fact]
    public void LockWordHeldByAGuest_PutsTheRequestAside_ServesOthers_AndAnswersOnceReleased()
    {
        using var bench = new RpcBench();
        bench.Zone.GuestWaitMs = 0; // as the service runs it
        var dir = bench.SharedDirectory("shared");
        var asker = bench.Guest(2);
        var other = bench.Guest(3);
        var file = bench.CreateFile(asker, "held", dir);
        ref ulong word = ref other.InodeLockWord(file.Ino);
        Volatile.Write(ref word, (ulong)other.Slot + 1); // a guest in the middle of a write

        ulong truncate = asker.Send(0, Req.SetSize(file, 4096));
        ulong create = other.Send(0, Req.Create(dir, "meanwhile"));
        var pass = Stopwatch.StartNew();
        bench.Serve();
        pass.Stop();

        Assert.False(asker.IsDone(0, truncate));
        Assert.True(bench.Server.HasDeferred);
        Assert.Equal(0u, other.Reply(0, create).Status);
        Assert.True(pass.ElapsedMilliseconds < 500, $"a pass took {pass.ElapsedMilliseconds} ms: it waited on the guest's lock word");

        Volatile.Write(ref word, 0);
        bench.Serve();
        Assert.Equal(0u, asker.Reply(0, truncate).Status);
        Assert.False(bench.Server.HasDeferred);
        Assert.Equal(4096UL, bench.Zone.Names.StatInode(file.Ino).Size);
    }

    [Fact]
    public void LockWordHeldPastTheLimit_AnswersEBUSY_AndChangesNothing()
    {
        using var bench = new RpcBench();
        bench.Zone.GuestWaitMs = 0;
        var dir = bench.SharedDirectory("shared");
        var asker = bench.Guest(2);
        var file = bench.CreateFile(asker, "held", dir);
        Assert.Equal(0u, bench.Call(asker, Req.Allocate(file, 0, 8192)).Status);
        var before = bench.Zone.Names.StatInode(file.Ino);
        var holder = bench.Guest(3);
        ref ulong word = ref holder.InodeLockWord(file.Ino);
        Volatile.Write(ref word, (ulong)holder.Slot + 1); // held, forever

        ulong truncate = asker.Send(0, Req.SetSize(file, 1));
        bench.Serve();
        Assert.False(asker.IsDone(0, truncate));
        Thread.Sleep(RequestServer.GuestHoldLimit + TimeSpan.FromMilliseconds(100));
        bench.Serve();

        Assert.Equal((uint)SgzAbi.StatusEbusy, asker.Reply(0, truncate).Status);
        Assert.False(bench.Server.HasDeferred);
        Volatile.Write(ref word, 0);
        Assert.Equal(before.Size, bench.Zone.Names.StatInode(file.Ino).Size);
        Assert.Equal(before.Pages, bench.Zone.Names.StatInode(file.Ino).Pages);
    }

    [Fact]
    public void HostTruncate_WithNoGuestWait_FailsAtOnceWhileAGuestHoldsTheLockWord()
    {
        using var bench = new RpcBench();
        bench.Zone.GuestWaitMs = 0;
        var holder = bench.Guest(3);
        ulong ino = bench.Zone.Names.CreateFile("/file");
        bench.Zone.Files.Write(ino, 0, new byte[8192]);
        holder.InodeLockWord(ino) = (ulong)holder.Slot + 1; // a guest inside a write

        var took = Stopwatch.StartNew();
        var e = Assert.Throws<GuestHoldsException>(() => bench.Zone.Files.Truncate(ino, 1));
        took.Stop();

        Assert.Contains("peer slot 3", e.Message);
        Assert.True(took.ElapsedMilliseconds < 500, $"the truncate waited {took.ElapsedMilliseconds} ms for the guest");
        Assert.Equal(8192UL, bench.Zone.Names.StatInode(ino).Size);
    }

    [Theory]
    [InlineData(5, false)] // a slot no guest is live in: its holder left after its words were cleared
    [InlineData(0, true)] // the host's own slot, which this process does not hold
    public void LockWordNamingNoLiveGuest_IsTakenOverAtOnce_AndLeftFree(int named, bool withWaiters)
    {
        using var bench = new RpcBench();
        bench.Zone.GuestWaitMs = 0;
        var live = bench.Guest(3);
        ulong ino = bench.Zone.Names.CreateFile("/file");
        bench.Zone.Files.Write(ino, 0, new byte[8192]);
        ulong stale = ((ulong)named + 1) | (withWaiters ? SgzAbi.IlockWaiters : 0);
        live.InodeLockWord(ino) = stale;

        bench.Zone.Files.Truncate(ino, 1);

        Assert.Equal(1UL, bench.Zone.Names.StatInode(ino).Size);
        Assert.Equal(0UL, Volatile.Read(ref live.InodeLockWord(ino)));
    }
}
