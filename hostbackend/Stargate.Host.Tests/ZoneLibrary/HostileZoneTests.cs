using Stargate.Host.Fsck;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// Guests are untrusted and can write anywhere in the zone. Whatever they write, the host
/// must answer with a ZoneException (never another exception, a hang or an access outside
/// the zone), and fsck --repair must bring the zone back to a clean state.
/// </summary>
public class HostileZoneTests
{
    // sgz_inode.size: in the half guests write.
    private static readonly ulong SizeOffset = (ulong)Marshal.OffsetOf<SgzInode>(nameof(SgzInode.Size));
    private static readonly string[] Paths = ["/", "/d", "/big"];

    [Fact]
    public void DirectorySize_SetHugeByAGuest_IsRefusedAtOnce_AndRepaired()
    {
        using var zone = Filled();
        ulong dir;
        using (var z = zone.Open())
        {
            dir = z.Names.Resolve("/d");
        }

        Poke(zone.Path, Offsets(zone).InodeOffset(dir) + SizeOffset, 1UL << 40);
        using (var z = zone.Open(ZoneAccess.ReadOnly))
        {
            var e = Assert.Throws<ZoneCorruptException>(() => z.Names.ReadDirectory("/d"));
            Assert.Contains($"directory inode {dir}", e.Message);
        }

        RepairsToClean(zone.Path);
        using var after = zone.Open(ZoneAccess.ReadOnly);
        Assert.Equal(20, after.Names.ReadDirectory("/d").Count);
    }

    [Fact]
    public void FileSize_SetPastTheLargestFile_IsRefused_AndRepairedToItsData()
    {
        using var zone = Filled();
        ulong ino;
        using (var z = zone.Open())
        {
            ino = z.Names.Resolve("/d/f3");
        }

        Poke(zone.Path, Offsets(zone).InodeOffset(ino) + SizeOffset, ulong.MaxValue);
        using (var z = zone.Open(ZoneAccess.ReadOnly))
        {
            Assert.Throws<ZoneCorruptException>(() => z.Files.Read(ino, 0, new byte[10]));
        }

        RepairsToClean(zone.Path);
        using var after = zone.Open(ZoneAccess.ReadOnly);
        Assert.Equal((ulong)SgzAbi.PageSize, after.Names.StatInode(ino).Size);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void GarbageOverMetadata_NeverCrashesTheHost_AndFsckRepairsIt(int seed)
    {
        using var zone = Filled();
        var rng = new Random(seed);
        var targets = MetadataPages(zone);
        using (var file = File.OpenHandle(zone.Path, FileMode.Open, FileAccess.ReadWrite))
        {
            for (int i = 0; i < 40; i++)
            {
                var garbage = new byte[rng.Next(1, 64)];
                rng.NextBytes(garbage);
                ulong page = targets[rng.Next(targets.Count)];
                RandomAccess.Write(file, garbage, (long)(page + (ulong)rng.Next(SgzAbi.PageSize - garbage.Length)));
            }
        }

        // Every host operation either works or fails with a zone error.
        Survives(() =>
        {
            using var z = zone.Open(ZoneAccess.ReadWrite);
            foreach (string path in Paths)
            {
                Survives(() => z.Names.ReadDirectory(path));
                Survives(() => z.Names.Stat(path));
            }

            for (int i = 0; i < 20; i++)
            {
                Survives(() => z.Files.Read(z.Names.Resolve($"/d/f{i}"), 0, new byte[8192]));
                Survives(() => z.Files.Write(z.Names.Resolve($"/d/f{i}"), 100, "x"u8));
                Survives(() => z.Names.Unlink($"/d/f{i}"));
            }

            Survives(() => z.Files.Read(z.Names.Resolve("/big"), 0, new byte[1 << 20]));
            Survives(() => z.Names.MakeDirectory("/new"));
            Survives(() => z.Files.Truncate(z.Names.Resolve("/big"), 1));
        });

        RepairsToClean(zone.Path);
    }

    /// <summary>A zone with a directory of 20 small files and one 6 MiB file.</summary>
    private static TempZone Filled()
    {
        var zone = new TempZone(32UL << 20);
        using var z = zone.Open();
        z.Names.MakeDirectory("/d");
        for (int i = 0; i < 20; i++)
        {
            z.Files.Write(z.Names.CreateFile($"/d/f{i}"), 0, new byte[(i + 1) * 1000]);
        }

        z.Files.Write(z.Names.CreateFile("/big"), 0, new byte[6 << 20]);
        return zone;
    }

    /// <summary>The zone offsets of pages that hold live structure: inodes in use, table nodes, directory pages.</summary>
    private static List<ulong> MetadataPages(TempZone zone)
    {
        using var z = zone.Open(ZoneAccess.ReadOnly);
        var g = z.Geometry;
        var pages = new List<ulong> { g.InodeTable.Offset, g.InodeBitmap.Offset, g.PageBitmap.Offset, g.ChunkUsage.Offset };
        foreach (string path in new[] { "/", "/d" })
        {
            ulong ino = z.Names.Resolve(path);
            pages.Add(z.PageTables.Map(ino, z.Inodes.Load(ino), 0).ZoneOffset & ~((ulong)SgzAbi.PageSize - 1));
        }

        var big = z.Inodes.Load(z.Names.Resolve("/big"));
        pages.Add(big.PtRoot);
        return pages;
    }

    /// <summary>
    /// A change that fails after a guest has rewritten the journal's records (format 1 lets
    /// it) is still undone exactly: the host undoes from its own copy of the saved bytes. Once
    /// this left a failed rename half applied (two names, link count 1).
    /// </summary>
    [Theory]
    [InlineData(0x00)]
    [InlineData(0xff)]
    public void FailingChange_WithTheJournalScribbledMidway_IsUndoneFromTheHostsOwnCopy(byte scribble)
    {
        using var zone = Filled();
        var before = ZoneState.Capture(zone.Path);
        var journal = Offsets(zone).Journal;
        int failures = 0;
        for (int point = 1; ; point++)
        {
            using var z = zone.Open();
            z.InjectCrashAt(point, () =>
            {
                // Everything after the journal header: every record saved so far, and the rest.
                using (var file = File.OpenHandle(zone.Path, FileMode.Open, FileAccess.ReadWrite))
                {
                    var garbage = new byte[checked((int)journal.Size - 64)];
                    Array.Fill(garbage, scribble);
                    RandomAccess.Write(file, garbage, (long)journal.Offset + 64);
                }

                throw new ZoneException(ZoneError.Busy, "a change that fails after the journal was scribbled");
            });
            try
            {
                z.Names.Rename("/d/f1", "/d/f2");
            }
            catch (ZoneException e) when (e.Error == ZoneError.Busy)
            {
                failures++;
                z.DisarmCrash();
                Assert.Equal(before, ZoneState.Capture(z));
                continue;
            }

            z.DisarmCrash(); // the rename ran to its end: every point of it has been tried
            break;
        }

        Assert.True(failures >= 3, $"only {failures} failure points were exercised");
        var report = ZoneChecker.Check(zone.Path, repair: false);
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
        var after = ZoneState.Capture(zone.Path);
        Assert.DoesNotContain(after, line => line.StartsWith("/d/f1 ", StringComparison.Ordinal));
    }

    /// <summary>
    /// An offset the host has just allocated that maps to a hole when looked up (a guest
    /// cleared the inode's depth in between: zone format 1 lets it) is refused, not taken as
    /// zone offset 0. Writing a symlink's target there once overwrote the superblock.
    /// </summary>
    [Fact]
    public void JustAllocatedOffset_ThatMapsToAHole_IsRefused_NotZoneOffsetZero()
    {
        using var zone = Filled();
        using var z = zone.Open();
        ulong ino = z.Names.Resolve("/d/f3");
        var inode = z.Inodes.Load(ino);
        Assert.False(z.PageTables.MapAllocated(ino, inode, 0).IsHole);

        inode.PtDepth = 0; // what the host reads after a guest cleared it
        var e = Assert.Throws<ZoneCorruptException>(() => z.PageTables.MapAllocated(ino, inode, 0));
        Assert.Contains($"inode {ino}", e.Message);
    }

    /// <summary>No change writes the superblock's page except through the superblock's own accessor.</summary>
    [Theory]
    [InlineData(0UL)]
    [InlineData(64UL)]
    [InlineData(4088UL)]
    public void ChangeThatWouldWriteTheSuperblocksPage_IsRefusedAndUndone(ulong offset)
    {
        using var zone = Filled();
        var before = Superblock(zone.Path);
        using (var z = zone.Open())
        {
            Assert.Throws<ZoneCorruptException>(() => z.Writer.Change(() => z.Writer.BytesForWrite(offset, 8).Fill(0xee)));
            Assert.Throws<ZoneCorruptException>(() => z.Writer.Change(() => z.Writer.U64ForWrite(offset) = 0xeeee));
        }

        Assert.Equal(before[..(SgzAbi.SuperblockCrcOffset + 4)], Superblock(zone.Path)[..(SgzAbi.SuperblockCrcOffset + 4)]);
        RepairsToClean(zone.Path);
    }

    private static byte[] Superblock(string path)
    {
        var bytes = new byte[SgzAbi.PageSize];
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        RandomAccess.Read(file, bytes, 0);
        return bytes;
    }

    private static void Survives(Action action)
    {
        try
        {
            action();
        }
        catch (ZoneException)
        {
        }
    }

    private static void RepairsToClean(string path)
    {
        ZoneChecker.Check(path, repair: true);
        var report = ZoneChecker.Check(path, repair: false);
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
    }

    private static ZoneGeometry Offsets(TempZone zone)
    {
        using var z = zone.Open(ZoneAccess.ReadOnly);
        return z.Geometry;
    }

    private static void Poke(string path, ulong offset, ulong value)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.Write(file, BitConverter.GetBytes(value), (long)offset);
    }
}
