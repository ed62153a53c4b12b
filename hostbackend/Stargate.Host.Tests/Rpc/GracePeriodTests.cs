using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// The grace period (docs/zone-format.md): data pages a change frees while guests are live
/// stay in use, pending, until every live guest acknowledged the change's epoch with
/// SGZ_OP_ACK; the invalidation log names the file; a guest that goes acknowledges by going;
/// nothing waits on a guest, and fsck accounts for what is pending.
/// </summary>
public class GracePeriodTests
{
    private const ulong Chunk = 2UL << 20;
    private const ulong PagesPerChunk = SgzAbi.PagesPerChunk;

    [Fact]
    public void FreedPages_StayPendingUntilEveryLiveGuestAcks_AreNotReused_ThenFreed()
    {
        using var bench = new RpcBench();
        var (a, b) = (bench.Guest(1), bench.Guest(2));
        var file = FileWithChunks(bench, a, "f", 2);
        var held = Chunks(bench, file, 2);
        ulong free = bench.Zone.Superblock.FreePages;
        bench.Rings.Clear();

        Assert.Equal(0u, bench.Call(b, Req.SetSize(file, 0)).Status);
        var grace = bench.Zone.Grace;
        Assert.Equal(1UL, grace.PostedEpoch);
        Assert.Equal(2 * PagesPerChunk, grace.PendingPages);
        Assert.Equal(free, bench.Zone.Superblock.FreePages);
        Assert.Contains(1, bench.Rings);
        Assert.Contains(2, bench.Rings);
        var record = LogRecord(bench, 1);
        Assert.Equal((1UL, 1UL, file.Ino, file.Generation), (record.Seq, record.Epoch, record.Ino, record.Generation));

        // Not reused while pending: a new file gets other chunks.
        var other = FileWithChunks(bench, a, "g", 2);
        Assert.Empty(Chunks(bench, other, 2).Intersect(held));

        Assert.Equal(0u, bench.Call(a, Ack(1)).Status);
        Assert.Equal(2 * PagesPerChunk, grace.PendingPages);
        Assert.Equal(0u, bench.Call(b, Ack(1)).Status);
        Assert.Equal(0UL, grace.PendingPages);
        Assert.Equal(free, bench.Zone.Superblock.FreePages); // g took two chunks, f's two came back
        Assert.True(bench.Zone.Memory.Span(held[0], Chunk).IndexOfAnyExcept((byte)0) < 0, "freed pages are zeroed");
        bench.AssertFsckClean();
    }

    [Fact]
    public void AGuestThatGoes_AcknowledgesByGoing()
    {
        using var bench = new RpcBench();
        var (a, _) = (bench.Guest(1), bench.Guest(2));
        var file = FileWithChunks(bench, a, "f", 1);
        Assert.Equal(0u, bench.Call(a, Req.SetSize(file, 0)).Status);
        Assert.Equal(0u, bench.Call(a, Ack(1)).Status);
        Assert.Equal(PagesPerChunk, bench.Zone.Grace.PendingPages);

        bench.Server.PeerGone(2);
        Assert.Equal(0UL, bench.Zone.Grace.PendingPages);
        bench.AssertFsckClean();
    }

    [Fact]
    public void AGuestWhoseMountEnded_IsNotWaitedFor_UntilItAcknowledgesAgain()
    {
        using var bench = new RpcBench();
        var (a, b) = (bench.Guest(1), bench.Guest(2));
        var file = FileWithChunks(bench, a, "f", 1);
        var detach = Ack(0);
        detach.Flags |= SgzAbi.ReqAckDetach;
        Assert.Equal(0u, bench.Call(b, detach).Status);

        // Guest 2 unmounted: guest 1's acknowledgement alone frees the pages.
        Assert.Equal(0u, bench.Call(a, Req.SetSize(file, 0)).Status);
        Assert.Equal(0u, bench.Call(a, Ack(1)).Status);
        Assert.Equal(0UL, bench.Zone.Grace.PendingPages);

        // Mounted again (its mount acknowledges the posted epoch): waited for from then on.
        Assert.Equal(0u, bench.Call(b, Ack(1)).Status);
        var again = FileWithChunks(bench, a, "g", 1);
        Assert.Equal(0u, bench.Call(a, Req.SetSize(again, 0)).Status);
        Assert.Equal(0u, bench.Call(a, Ack(2)).Status);
        Assert.Equal(PagesPerChunk, bench.Zone.Grace.PendingPages);
        Assert.Equal(0u, bench.Call(b, Ack(2)).Status);
        Assert.Equal(0UL, bench.Zone.Grace.PendingPages);

        // Unknown ACK flags are malformed.
        var odd = Ack(0);
        odd.Flags |= 0x2;
        Assert.Equal((uint)Errno.EINVAL, bench.Call(b, odd).Status);
        bench.AssertFsckClean();
    }

    [Fact]
    public void AGuestThatJoinsAfterAPost_DoesNotHoldItsPages()
    {
        using var bench = new RpcBench();
        var a = bench.Guest(1);
        var file = FileWithChunks(bench, a, "f", 1);
        Assert.Equal(0u, bench.Call(a, Req.SetSize(file, 0)).Status);
        bench.Guest(2);
        Assert.Equal(0u, bench.Call(a, Ack(1)).Status);
        Assert.Equal(0UL, bench.Zone.Grace.PendingPages);
    }

    [Fact]
    public void AnAckAboveThePostedEpoch_IsRefused_AndCountsForNothing()
    {
        using var bench = new RpcBench();
        var (a, b) = (bench.Guest(1), bench.Guest(2));
        var file = FileWithChunks(bench, a, "f", 1);
        Assert.Equal(0u, bench.Call(a, Req.SetSize(file, 0)).Status);
        Assert.Equal(0u, bench.Call(a, Ack(1)).Status);

        Assert.Equal((uint)Errno.EINVAL, bench.Call(b, Ack(2)).Status);
        Assert.Equal((uint)Errno.EINVAL, bench.Call(b, Ack(ulong.MaxValue)).Status);
        var named = Ack(1);
        named.Ino = file.Ino;
        Assert.Equal((uint)Errno.EINVAL, bench.Call(b, named).Status);
        Assert.Equal(PagesPerChunk, bench.Zone.Grace.PendingPages);
        Assert.Equal(0UL, bench.Zone.Grace.AckedBy(2));

        // Another file's later free does not let an old epoch's pages go early either.
        var second = (Dir: bench.Node(bench.Zone.Names.Stat("/d").Ino), File: FileWithChunks(bench, a, "g", 1));
        Assert.Equal(0u, bench.Call(a, Req.Unlink(second.Dir, "g")).Status);
        Assert.Equal(2UL, bench.Zone.Grace.PostedEpoch);
        Assert.Equal(0u, bench.Call(b, Ack(1)).Status);
        Assert.Equal(PagesPerChunk, bench.Zone.Grace.PendingPages);
        Assert.Equal(0u, bench.Call(a, Ack(2)).Status);
        Assert.Equal(0u, bench.Call(b, Ack(2)).Status);
        Assert.Equal(0UL, bench.Zone.Grace.PendingPages);
        bench.AssertFsckClean();
    }

    [Fact]
    public void WhenPendingSpaceIsAllThatIsLeft_AllocationTakesTheRest_ThenENOSPC()
    {
        using var bench = new RpcBench(16UL << 20);
        var (a, b) = (bench.Guest(1), bench.Guest(2));
        ulong dataChunks = bench.Zone.Geometry.ChunkCount - bench.Zone.Geometry.FirstDataChunk;
        var big = FileWithChunks(bench, a, "big", (int)dataChunks - 1);
        var held = Chunks(bench, big, (int)dataChunks - 1);
        Assert.Equal(0u, bench.Call(b, Req.SetSize(big, 0)).Status);

        var small = FileWithChunks(bench, a, "small", 1);
        Assert.DoesNotContain(Chunks(bench, small, 1)[0], held);
        Assert.Equal((uint)Errno.ENOSPC, bench.Call(a, Req.Allocate(small, Chunk, Chunk)).Status);

        Assert.Equal(0u, bench.Call(a, Ack(1)).Status);
        Assert.Equal(0u, bench.Call(b, Ack(1)).Status);
        Assert.Equal(0u, bench.Call(a, Req.Allocate(small, Chunk, Chunk)).Status);
        Assert.Contains(Chunks(bench, small, 2)[1], held);
        bench.AssertFsckClean();
    }

    [Fact]
    public void PendingPages_AreCleanToFsck_AndAnOpenWithNoLiveGuestFreesThem()
    {
        using var bench = new RpcBench();
        var (a, _) = (bench.Guest(1), bench.Guest(2));
        var file = FileWithChunks(bench, a, "f", 1);
        Assert.Equal(0u, bench.Call(a, Req.SetSize(file, 0)).Status);
        Assert.Equal(Chunk, bench.Zone.Summarize().PendingBytes); // zone info's pending line
        var report = bench.Fsck();
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
        Assert.Equal(PagesPerChunk, bench.Zone.Grace.PendingPages);

        bench.Zone.Peers.Set(1, live: false);
        bench.Zone.Peers.Set(2, live: false);
        bench.AssertFsckClean();
        Assert.Equal(0UL, bench.Zone.Grace.PendingPages);
        Assert.Equal(bench.Zone.Geometry.FileDataPages, bench.Zone.Superblock.FreePages);
    }

    [Fact]
    public void AServiceKilledAtAnyPointOfAFreeingChange_LosesAndLeaksNothing()
    {
        int crashes = 0;
        for (int point = 1; ; point++)
        {
            using var bench = new RpcBench(16UL << 20);
            var (a, b) = (bench.Guest(1), bench.Guest(2));
            var file = FileWithChunks(bench, a, "f", 1);
            ulong seq = a.Send(3, Req.SetSize(file, 0));
            bench.Zone.InjectCrashAt(point, static () => throw new SimulatedCrashException());
            try
            {
                bench.Serve();
                bench.Zone.DisarmCrash();
                break;
            }
            catch (SimulatedCrashException)
            {
                crashes++;
            }

            bench.RestartAfterCrash();
            bench.Serve();
            Assert.Equal(0u, a.Reply(3, seq).Status);

            // The guests a dead service left live must acknowledge anew (past a whole ring: they drop everything).
            var log = bench.Zone.Memory.Ref<SgzInvalHeader>(bench.Zone.Geometry.InvalLog.Offset);
            Assert.True(log.Head > SgzAbi.InvalRecords, $"head {log.Head} after a restart with live guests");
            Assert.Equal(PagesPerChunk, bench.Zone.Grace.PendingPages);
            Assert.Equal(0u, bench.Call(a, Ack(log.PostedEpoch)).Status);
            Assert.Equal(0u, bench.Call(b, Ack(log.PostedEpoch)).Status);
            Assert.Equal(0UL, bench.Zone.Grace.PendingPages);
            bench.AssertFsckClean();
        }

        Assert.True(crashes > 3, $"only {crashes} crash points");
    }

    private static SgzRequest Ack(ulong epoch)
    {
        var r = Req.Base(SgzAbi.OpAck, default, Req.User, Req.User);
        r.Offset = epoch;
        return r;
    }

    /// <summary>A file in the shared directory /d with <paramref name="chunks"/> 2 MiB chunks allocated and that size.</summary>
    private static NodeRef FileWithChunks(RpcBench bench, TestGuest guest, string name, int chunks)
    {
        var dir = bench.Zone.Names.ReadDirectory("/").Any(e => e.Name == "d") ? bench.Node(bench.Zone.Names.Stat("/d").Ino) : bench.SharedDirectory("d");
        var file = bench.CreateFile(guest, name, dir);
        Assert.Equal(0u, bench.Call(guest, Req.Allocate(file, 0, (ulong)chunks * Chunk)).Status);
        Assert.Equal(0u, bench.Call(guest, Req.SetSize(file, (ulong)chunks * Chunk)).Status);
        return file;
    }

    /// <summary>The zone offsets of a file's first <paramref name="count"/> 2 MiB chunks.</summary>
    private static List<ulong> Chunks(RpcBench bench, NodeRef file, int count) =>
        [.. Enumerable.Range(0, count).Select(i =>
            bench.Zone.PageTables.Map(file.Ino, bench.Zone.Inodes.Load(file.Ino), (ulong)i * Chunk).ZoneOffset / Chunk * Chunk)];

    private static SgzInvalRecord LogRecord(RpcBench bench, ulong seq) =>
        bench.Zone.Memory.Ref<SgzInvalRecord>(bench.Zone.Geometry.InvalLog.Offset + SgzAbi.InvalHeaderSize + ((seq - 1) % SgzAbi.InvalRecords * SgzAbi.InvalRecordSize));
}
