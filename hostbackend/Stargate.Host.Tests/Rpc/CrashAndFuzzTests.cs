using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;
using Xunit.Abstractions;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// Exactly once across a service killed at every point of a request (the journal's
/// crash points), and a fuzzer: thousands of garbage and plausible requests after
/// which every one has a reply, the server never threw and fsck finds the zone clean.
/// </summary>
public class CrashAndFuzzTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("create", 0u)]
    [InlineData("unlink of a missing name", (uint)Errno.ENOENT)]
    [InlineData("lock", 0u)]
    public void ServiceKilledAtAnyPointOfARequest_AppliesItOnce_AndTheNextServicePublishesTheReply(string what, uint status)
    {
        int crashes = 0;
        for (int point = 1; ; point++)
        {
            using var bench = new RpcBench(16UL << 20);
            var guest = bench.Guest(1);
            var dir = bench.SharedDirectory("d");
            var file = bench.CreateFile(guest, "f", dir);
            var request = what switch
            {
                "create" => Req.Create(dir, "once"),
                "lock" => Req.Lock(file, SgzAbi.LockWrite, 0, 10, owner: 1, pid: 1),
                _ => Req.Unlink(dir, "missing"),
            };
            ulong seq = guest.Send(3, request);
            bench.Zone.InjectCrashAt(point, static () => throw new SimulatedCrashException());
            try
            {
                bench.Serve();
                bench.Zone.DisarmCrash();
                Assert.True(status == guest.Reply(3, seq).Status, $"status {guest.Reply(3, seq).Status} with no crash; the log:\n{string.Join('\n', bench.Log.Lines)}");
                break; // every point of this request has been tried
            }
            catch (SimulatedCrashException)
            {
                crashes++;
            }

            Assert.False(guest.IsDone(3, seq), "done is published only after the change commits");
            bench.RestartAfterCrash();
            bench.Serve();
            var reply = guest.Reply(3, seq);
            Assert.True(status == reply.Status, $"status {reply.Status} after a crash at point {point}; the log:\n{string.Join('\n', bench.Log.Lines)}");
            var names = bench.Zone.Names.ReadDirectory("/d").Select(e => e.Name).Order().ToList();
            Assert.Equal(what == "create" ? ["f", "once"] : ["f"], names);
            if (what == "create")
            {
                Assert.Equal(bench.Zone.Names.Stat("/d/once").Ino, reply.Ino);
            }

            if (what == "lock")
            {
                var other = bench.Guest(2);
                Assert.Equal((uint)Errno.EAGAIN, bench.Call(other, Req.Lock(file, SgzAbi.LockRead, 5, 1, owner: 2, pid: 2)).Status);
            }

            bench.AssertFsckClean();
        }

        Assert.True(crashes >= 3, $"only {crashes} crash points in a {what} request");
    }

    [Fact]
    public void ServiceKilledAfterTheCommitBeforeDone_IsNotAppliedAgain_TheNextServiceOnlyPublishes()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        ulong seq = guest.Send(2, Req.Create(dir, "once"));
        bench.Serve();
        var committed = guest.Reply(2, seq);

        // The state a service leaves when it dies between its commit and its store of done.
        Volatile.Write(ref bench.HostReply(1, 2).Done, 0UL);
        bench.RestartAfterCrash();

        Assert.True(guest.IsDone(2, seq), "the new service publishes done at its start");
        Assert.Equal(committed.Ino, guest.Reply(2, seq).Ino);
        Assert.Equal(0, bench.Serve());
        Assert.Equal(["once"], bench.Zone.Names.ReadDirectory("/d").Select(e => e.Name));
    }

    [Fact]
    public void ThousandsOfGarbageAndPlausibleRequests_AllGetReplies_AndLeaveTheZoneClean()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STARGATE_FUZZ_SEED"), out int fixedSeed) ? fixedSeed : Environment.TickCount;
        output.WriteLine($"fuzz seed {seed} (STARGATE_FUZZ_SEED={seed} repeats it)");
        try
        {
            Fuzz(seed, batches: 250);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"fuzz seed {seed} (STARGATE_FUZZ_SEED={seed} repeats it): {e.Message}", e);
        }
    }

    [Fact]
    public void GuestRewritingItsSlotsWhileTheyAreServed_NeverMakesTheServerThrow_AndTheLastRequestsAreAnswered()
    {
        using var bench = new RpcBench(32UL << 20);
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var known = new List<NodeRef> { bench.Root, dir };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var last = new ulong[SgzAbi.RingSlots];
        var writer = new Thread(() =>
        {
            var random = new Random(11);
            var garbage = new byte[SgzAbi.RequestSize];
            while (!stop.IsCancellationRequested)
            {
                int tag = random.Next(SgzAbi.RingSlots);
                if (random.Next(2) == 0)
                {
                    random.NextBytes(garbage);
                    last[tag] = guest.SendBytes(tag, garbage);
                }
                else
                {
                    last[tag] = guest.Send(tag, Plausible(random, known));
                }
            }
        });
        writer.Start();
        int served = 0;
        while (writer.IsAlive)
        {
            served += bench.Serve();
        }

        bench.Serve();
        Assert.True(served > 100, $"only {served} requests served while the guest wrote");
        for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
        {
            Assert.True(last[tag] == 0 || guest.IsDone(tag, last[tag]), $"tag {tag}: the last request {last[tag]} has no reply");
        }

        bench.Server.PeerGone(guest.Slot);
        bench.AssertFsckClean();
    }

    [Fact]
    public void CorruptDirectoryInTheZone_GivesErrorReplies_AndTheServerServesTheRest()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var other = bench.SharedDirectory("e");
        ulong at = bench.Zone.Geometry.InodeOffset(dir.Ino);
        bench.Zone.Memory.Span(at + 32, 16).Fill(0xee); // page-table root and depth: garbage, so the crc no longer matches

        var refused = bench.Call(guest, Req.Create(dir, "f"));
        Assert.Equal((uint)Errno.EIO, refused.Status);
        Assert.Equal(0u, bench.Call(guest, Req.Create(other, "f")).Status);
    }

    private static void Fuzz(int seed, int batches)
    {
        var random = new Random(seed);
        using var bench = new RpcBench(32UL << 20);
        var guests = new[] { bench.Guest(1), bench.Guest(2) };
        var dir = bench.SharedDirectory("d");
        var known = new List<NodeRef> { bench.Root, dir };
        int requests = 0;
        for (int batch = 0; batch < batches; batch++)
        {
            var sent = new List<(TestGuest Guest, int Tag, ulong Seq)>();
            foreach (var guest in guests)
            {
                for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
                {
                    if (random.Next(4) == 0)
                    {
                        var garbage = new byte[SgzAbi.RequestSize];
                        random.NextBytes(garbage);
                        sent.Add((guest, tag, guest.SendBytes(tag, garbage)));
                    }
                    else
                    {
                        sent.Add((guest, tag, guest.Send(tag, Plausible(random, known))));
                    }

                    if (random.Next(10) == 0)
                    {
                        var node = known[random.Next(known.Count)];
                        guest.SetOpen(random.Next(SgzAbi.OpenEntries), node, (uint)random.Next(3));
                    }
                }
            }

            int served = bench.Serve();
            requests += sent.Count;
            foreach (var (guest, tag, seq) in sent)
            {
                Assert.True(guest.IsDone(tag, seq), $"batch {batch}: guest {guest.Slot} tag {tag} seq {seq} has no reply ({served} served)");
                var reply = guest.ReplyRef(tag);
                if (reply.Status == 0 && reply.Ino != 0)
                {
                    known.Add(new NodeRef(reply.Ino, reply.Generation));
                }
            }

            if (random.Next(50) == 0)
            {
                // A guest goes; a new one comes in its slot, with a new area.
                int which = random.Next(guests.Length);
                bench.Server.PeerGone(guests[which].Slot);
                guests[which] = bench.Guest(guests[which].Slot);
            }
        }

        Assert.True(requests >= 2000, $"{requests} requests");
        foreach (var guest in guests)
        {
            bench.Server.PeerGone(guest.Slot);
        }

        bench.AssertFsckClean();
    }

    private static readonly string[] Names = ["a", "b", "c", "dir", "x", ".", "..", "a/b", "", new string('n', 255), new string('n', 256)];

    private static readonly uint[] Modes =
    [
        SgzAbi.SIfreg | 0x1a4, SgzAbi.SIfdir | 0x1ed, SgzAbi.SIfifo | 0x1a4, SgzAbi.SIfsock | 0x1ff, SgzAbi.SIflnk | 0x1ff,
        SgzAbi.SIfchr | 0x1a4, 0x1ff, SgzAbi.SIfreg | 0xfff, 0xffffffff,
    ];

    private static readonly uint[] Uids = [0, 1000, 1001];

    private static readonly uint[] Gids = [0, 1000];

    private static readonly ulong[] Sizes = [0, 1, 4095, 4096, 1 << 20, 3 << 20, 1UL << 30, (1UL << 30) + 1, 1UL << 48, ulong.MaxValue];

    /// <summary>A request whose every field comes from values that are near what a guest sends: known inodes, small names, edge sizes.</summary>
    private static SgzRequest Plausible(Random random, List<NodeRef> known)
    {
        T Pick<T>(IReadOnlyList<T> from) => from[random.Next(from.Count)];
        NodeRef Node() => random.Next(8) switch
        {
            0 => new NodeRef((ulong)random.NextInt64(), (uint)random.Next()),
            1 => Pick(known) with { Generation = (uint)random.Next() },
            _ => Pick(known),
        };

        int opcode = random.Next(12) == 0 ? random.Next(-2, 20) : random.Next(SgzAbi.OpCreate, SgzAbi.OpNop + 1);
        var node = Node();
        var r = Req.Base(opcode, opcode == SgzAbi.OpNop && random.Next(2) == 0 ? default : node, Pick(Uids), Pick(Gids));
        Req.SetName(ref r, Pick(Names));
        if (random.Next(4) == 0)
        {
            Req.SetGroups(ref r, [.. Gids.Where(_ => random.Next(2) == 0)]);
        }

        var target = Node();
        r.Ino2 = target.Ino;
        r.Generation2 = target.Generation;
        r.Mode = Pick(Modes);
        r.Flags = (uint)random.Next(5) | (random.Next(16) == 0 ? 0 : SgzAbi.ReqCaller) | (random.Next(16) == 0 ? 1u << random.Next(32) : 0);
        r.CallerUid = Pick(Uids);
        r.CallerGid = Pick(Gids);
        r.Ngroups = random.Next(4) == 0 ? (uint)random.Next(SgzAbi.ReqGroupsMax + 3) : 0;
        r.Valid = (uint)random.Next(0x48);
        r.LockType = (uint)random.Next(4);
        r.Offset = Pick(Sizes);
        r.Length = Pick(Sizes);
        r.AtimeNs = random.Next(2) == 0 ? SgzAbi.TimeNow : (ulong)random.NextInt64();
        r.MtimeNs = SgzAbi.TimeNow;
        r.Owner = (ulong)random.Next(4);
        r.Pid = (uint)random.Next(100);
        r.Rdev = (ulong)random.Next(2);
        byte[] second = System.Text.Encoding.UTF8.GetBytes(Pick(Names));
        Req.SetName2(ref r, random.Next(10) == 0 ? new byte[random.Next(770)] : second);
        return r;
    }
}
