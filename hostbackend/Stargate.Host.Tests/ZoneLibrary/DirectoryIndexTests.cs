using System.Text;
using Stargate.Host.Fsck;
using Stargate.Host.Tests.Cli;
using Stargate.Host.Tests.Fsck;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// The directory index (format 2.2): names found through it after thousands of inserts and
/// removes, names that share one 32-bit hash (crafted crc32c collisions, past what a bucket
/// and the root's full depth hold), entries that never move (their slot is the readdir
/// cookie), a crash inside a split undone, and fsck finding and rebuilding a damaged index.
/// </summary>
public class DirectoryIndexTests
{
    private const ulong Mib = 1UL << 20;

    [Fact]
    public void ThousandsOfInsertsAndRemoves_EveryLiveNameIsFound_AndTheIndexGoesWithTheLastEntry()
    {
        using var temp = new TempZone(256 * Mib);
        var random = new Random(14);
        var live = new HashSet<string>(StringComparer.Ordinal);
        using (var zone = temp.Open())
        {
            zone.Names.MakeDirectory("/d");
            for (int i = 0; i < 6000; i++)
            {
                string name = $"file-{i}-{random.Next():x}";
                zone.Names.CreateFile("/d/" + name);
                live.Add(name);
            }

            foreach (string name in live.Where((_, i) => i % 3 != 0).ToList())
            {
                zone.Names.Unlink("/d/" + name);
                live.Remove(name);
            }

            for (int i = 0; i < 1000; i++)
            {
                string name = $"again-{i}";
                zone.Names.CreateFile("/d/" + name);
                live.Add(name);
            }

            ulong dir = zone.Names.Resolve("/d");
            var inode = zone.Inodes.Load(dir);
            Assert.NotEqual(0UL, inode.IndexRoot);
            Assert.Equal((ulong)live.Count, inode.Entries);
            Assert.True(zone.Memory.Ref<SgzDirIndex>(inode.IndexRoot).Depth >= 3, "7,000 names split the root");
            foreach (string name in live)
            {
                Assert.NotNull(zone.Directories.FindEntry(dir, Encoding.UTF8.GetBytes(name)));
            }

            Assert.Null(zone.Directories.FindEntry(dir, "file-0-gone"u8));
            Assert.Equal(live.Order(StringComparer.Ordinal), zone.Names.ReadDirectory("/d").Select(e => e.Name).Order(StringComparer.Ordinal));
        }

        ZoneContent.AssertFsckClean(temp.Path);
        using (var zone = temp.Open())
        {
            foreach (string name in live)
            {
                zone.Names.Unlink("/d/" + name);
            }

            var inode = zone.Inodes.Load(zone.Names.Resolve("/d"));
            Assert.Equal(0UL, inode.IndexRoot);
            Assert.Equal(0UL, inode.Pages);
            Assert.Equal(0UL, inode.Size);
            zone.Names.RemoveDirectory("/d");
        }

        ZoneContent.AssertFsckClean(temp.Path);
    }

    [Fact]
    public void NamesThatShareOneHash_PastABucketAndTheFullDepth_AreEachFoundAndRemoved()
    {
        using var temp = new TempZone(64 * Mib);
        const uint Hash = 0x5a5a1234;
        var names = Colliding(Hash, 1300);
        Assert.All(names, n => Assert.Equal(Hash, Crc32C.Compute(n)));
        using (var zone = temp.Open())
        {
            zone.Names.MakeDirectory("/c");
            ulong dir = zone.Names.Resolve("/c");
            var node = new NodeRef(dir, zone.Inodes.Load(dir).Generation);
            for (int i = 0; i < names.Count; i++)
            {
                zone.Names.MakeNode(Caller.Host, node, names[i], SgzAbi.SIfreg | 0x1a4, []);
                zone.Names.CreateFile($"/c/plain-{i}");
            }

            var root = zone.Memory.Ref<SgzDirIndex>(zone.Inodes.Load(dir).IndexRoot);
            Assert.Equal(SgzAbi.DiridxMaxDepth, (int)root.Depth);
            foreach (byte[] name in names)
            {
                Assert.Equal(name, Directories.NameOf(zone.Directories.FindEntry(dir, name)!.Value.Entry).ToArray());
            }

            for (int i = 0; i < names.Count; i += 2)
            {
                zone.Names.Unlink(Caller.Host, node, names[i]);
            }

            for (int i = 0; i < names.Count; i++)
            {
                Assert.Equal(i % 2 == 1, zone.Directories.FindEntry(dir, names[i]) is not null);
            }
        }

        ZoneContent.AssertFsckClean(temp.Path);
    }

    [Fact]
    public void AnEntry_KeepsItsSlot_WhileOthersComeAndGo()
    {
        using var temp = new TempZone(64 * Mib);
        using var zone = temp.Open();
        zone.Names.MakeDirectory("/s");
        ulong dir = zone.Names.Resolve("/s");
        for (int i = 0; i < 3000; i++)
        {
            zone.Names.CreateFile($"/s/n{i}");
        }

        var slots = Enumerable.Range(0, 3000).Where(i => i % 7 == 0)
            .ToDictionary(i => $"n{i}", i => zone.Directories.FindEntry(dir, Encoding.UTF8.GetBytes($"n{i}"))!.Value.Index);
        for (int i = 0; i < 3000; i++)
        {
            if (i % 7 != 0)
            {
                zone.Names.Unlink($"/s/n{i}");
            }

            if (i % 5 == 0)
            {
                zone.Names.CreateFile($"/s/m{i}");
            }
        }

        foreach (var (name, slot) in slots)
        {
            Assert.Equal(slot, zone.Directories.FindEntry(dir, Encoding.UTF8.GetBytes(name))!.Value.Index);
        }
    }

    [Fact]
    public void ACrashAtAnyPointOfASplit_LeavesTheChangeWholeOrUndone_AndTheIndexWhole()
    {
        using var temp = new TempZone(16 * Mib);
        string work = temp.Scratch("work");
        using (var zone = temp.Open())
        {
            zone.Names.MakeDirectory("/d");
            for (int i = 0; i < SgzAbi.DiridxBucketPairs; i++)
            {
                zone.Names.CreateFile($"/d/n{i}");
            }
        }

        // The next name fills a full bucket: its change splits it (a new page, two rewritten, the root doubled).
        var before = ZoneState.Capture(temp.Path);
        temp.CopyTo(work);
        using (var z = Zone.Open(work, ZoneAccess.ReadWrite))
        {
            z.Names.CreateFile("/d/split");
        }

        var after = ZoneState.Capture(work);
        int crashes = 0;
        for (int point = 1; ; point++)
        {
            temp.CopyTo(work);
            var z = Zone.Open(work, ZoneAccess.ReadWrite);
            z.InjectCrashAt(point, static () => throw new SimulatedCrashException());
            try
            {
                z.Names.CreateFile("/d/split");
                z.Dispose();
                break;
            }
            catch (SimulatedCrashException)
            {
                z.Abandon();
            }

            crashes++;
            Zone.Open(work, ZoneAccess.ReadWrite).Dispose(); // opening for writing undoes the journal
            var recovered = ZoneState.Capture(work);
            Assert.True(recovered.SequenceEqual(before) || recovered.SequenceEqual(after), $"killed at point {point}: neither before nor after");
            var report = ZoneChecker.Check(work, repair: false);
            Assert.True(report.Problems.Count == 0, $"killed at point {point}:\n{string.Join('\n', report.Lines())}");
        }

        Assert.True(crashes > 10, $"only {crashes} crash points");
        using (var z = Zone.Open(work, ZoneAccess.ReadWrite))
        {
            var root = z.Memory.Ref<SgzDirIndex>(z.Inodes.Load(z.Names.Resolve("/d")).IndexRoot);
            Assert.Equal(1, (int)root.Depth);
            Assert.Equal(3u, root.Pages);
            z.Names.Resolve("/d/split");
        }

        ZoneContent.AssertFsckClean(work);
    }

    [Fact]
    public void Fsck_WhenAPairNamesAFreeSlot_FindsIt_AndRepairBuildsTheIndexAgain()
    {
        using var temp = new TempZone(16 * Mib);
        ulong bucket;
        using (var zone = temp.Open())
        {
            zone.Names.MakeDirectory("/d");
            for (int i = 0; i < 100; i++)
            {
                zone.Names.CreateFile($"/d/n{i}");
            }

            var root = zone.Memory.Ref<SgzDirIndex>(zone.Inodes.Load(zone.Names.Resolve("/d")).IndexRoot);
            unsafe
            {
                bucket = (ulong)root.Bucket[0] << SgzAbi.PageShift;
            }
        }

        // The first pair's slot number moved past every entry.
        ulong pair = bucket + (ulong)Marshal.OffsetOf<SgzDirBucket>(nameof(SgzDirBucket.Pairs));
        RawZone.Write(temp.Path, pair + 4, 5000u);
        var report = ZoneChecker.Check(temp.Path, repair: false);
        Assert.Contains(report.Problems, p => p.Contains("index at", StringComparison.Ordinal) && p.Contains("slot 5000", StringComparison.Ordinal));

        var repaired = ZoneChecker.Check(temp.Path, repair: true);
        Assert.Empty(repaired.Remaining);
        Assert.Contains(repaired.Repairs, r => r.Contains("built the index of 1 directories again", StringComparison.Ordinal));
        ZoneContent.AssertFsckClean(temp.Path);
        using (var zone = temp.Open())
        {
            for (int i = 0; i < 100; i++)
            {
                zone.Names.Resolve($"/d/n{i}");
            }
        }
    }

    [Fact]
    public void Fsck_WhenABucketHasABadMagic_FindsIt_AndTheHostRefusesToUseIt()
    {
        using var temp = new TempZone(16 * Mib);
        ulong bucket;
        using (var zone = temp.Open())
        {
            zone.Names.MakeDirectory("/d");
            zone.Names.CreateFile("/d/a");
            var root = zone.Memory.Ref<SgzDirIndex>(zone.Inodes.Load(zone.Names.Resolve("/d")).IndexRoot);
            unsafe
            {
                bucket = (ulong)root.Bucket[0] << SgzAbi.PageShift;
            }
        }

        RawZone.Write(temp.Path, bucket, 0xdeadbeefu);
        var report = ZoneChecker.Check(temp.Path, repair: false);
        Assert.Contains(report.Problems, p => p.Contains("index at", StringComparison.Ordinal) && p.Contains("magic 0xdeadbeef", StringComparison.Ordinal));
        using (var zone = temp.Open())
        {
            Assert.Throws<ZoneCorruptException>(() => zone.Names.Resolve("/d/a"));
        }

        ZoneChecker.Check(temp.Path, repair: true);
        ZoneContent.AssertFsckClean(temp.Path);
    }

    /// <summary>
    /// <paramref name="count"/> distinct valid names whose crc32c is <paramref name="hash"/>: for
    /// messages of one length crc is affine in the bits, so the last four bytes of each name are
    /// solved for (a 32 x 32 system over GF(2)); a solution with a '/' or NUL byte is skipped.
    /// </summary>
    private static List<byte[]> Colliding(uint hash, int count)
    {
        var names = new List<byte[]>();
        for (int n = 0; names.Count < count; n++)
        {
            byte[] m = Encoding.ASCII.GetBytes($"collide-{n:d6}-....");
            int tail = m.Length - 4;
            uint c0 = Crc32C.Compute(m);
            uint[] basis = new uint[32];
            uint[] combo = new uint[32];
            for (int k = 0; k < 32; k++)
            {
                m[tail + (k / 8)] ^= (byte)(1 << (k % 8));
                uint v = Crc32C.Compute(m) ^ c0;
                m[tail + (k / 8)] ^= (byte)(1 << (k % 8));
                uint c = 1u << k;
                for (int bit = 31; bit >= 0 && v != 0; bit--)
                {
                    if ((v >> bit & 1) == 0)
                    {
                        continue;
                    }

                    if (basis[bit] == 0)
                    {
                        basis[bit] = v;
                        combo[bit] = c;
                        break;
                    }

                    v ^= basis[bit];
                    c ^= combo[bit];
                }
            }

            uint want = hash ^ c0;
            uint x = 0;
            for (int bit = 31; bit >= 0; bit--)
            {
                if ((want >> bit & 1) != 0)
                {
                    want ^= basis[bit];
                    x ^= combo[bit];
                }
            }

            for (int k = 0; k < 32; k++)
            {
                if ((x >> k & 1) != 0)
                {
                    m[tail + (k / 8)] ^= (byte)(1 << (k % 8));
                }
            }

            if (want == 0 && Crc32C.Compute(m) == hash && m.AsSpan(tail).IndexOfAny((byte)'/', (byte)0) < 0)
            {
                names.Add(m);
            }
        }

        return names;
    }
}
