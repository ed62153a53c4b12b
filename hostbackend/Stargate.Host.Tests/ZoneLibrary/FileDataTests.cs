using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.ZoneLibrary;

public class FileDataTests
{
    private const int Chunk = SgzAbi.ChunkSize;

    [Fact]
    public void Write_PastTheEnd_LeavesAHoleThatReadsAsZeros()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        ulong ino = z.Names.CreateFile("/sparse");
        z.Files.Write(ino, 10_000_000, "tail"u8);
        var s = z.Names.StatInode(ino);
        Assert.Equal(10_000_004UL, s.Size);
        Assert.True(s.Pages <= SgzAbi.PagesPerChunk + 2, $"a sparse write allocated {s.Pages} pages");
        var all = new byte[s.Size];
        Assert.Equal(all.Length, z.Files.Read(ino, 0, all));
        Assert.All(all.AsSpan(0, 10_000_000).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal("tail"u8.ToArray(), all[^4..]);
    }

    [Fact]
    public void Truncate_ShrinkThenGrow_ExposesZerosNotOldData()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        ulong ino = z.Names.CreateFile("/f");
        var data = Enumerable.Repeat((byte)0xAB, 3 * Chunk).ToArray();
        z.Files.Write(ino, 0, data);
        z.Files.Truncate(ino, 1000);
        z.Files.Truncate(ino, (ulong)data.Length);
        var back = new byte[data.Length];
        z.Files.Read(ino, 0, back);
        Assert.All(back.AsSpan(0, 1000).ToArray(), b => Assert.Equal(0xAB, b));
        Assert.Equal(-1, back.AsSpan(1000).IndexOfAnyExcept((byte)0));
    }

    [Fact]
    public void Truncate_Shrink_FreesWholeChunksAndPages()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        ulong ino = z.Names.CreateFile("/f");
        ulong free0 = z.Summarize().DataBytes - z.Summarize().DataBytesUsed;
        z.Files.Write(ino, 0, new byte[5 * Chunk]);
        z.Files.Truncate(ino, Chunk + 1);
        var s = z.Names.StatInode(ino);
        Assert.Equal(2UL * SgzAbi.PagesPerChunk + 1, s.Pages); // two chunks kept (the second partly), one table node
        z.Files.Truncate(ino, 0);
        Assert.Equal(0UL, z.Names.StatInode(ino).Pages);
        Assert.Equal(free0, z.Summarize().DataBytes - z.Summarize().DataBytesUsed);
    }

    [Fact]
    public void FreedSpace_IsReused_AndReadsAsZerosInTheNewFile()
    {
        using var zone = new TempZone(16UL << 20);
        using var z = zone.Open();
        ulong data = z.Summarize().DataBytes;
        for (int round = 0; round < 3; round++)
        {
            ulong ino = z.Names.CreateFile($"/fill{round}");
            // Nearly the whole data region: only possible if the last round's space came back.
            ulong size = data - (4 * (ulong)Chunk);
            z.Files.Write(ino, 0, Enumerable.Repeat((byte)(round + 1), (int)size).ToArray());
            z.Names.Unlink($"/fill{round}");
        }

        ulong fresh = z.Names.CreateFile("/fresh");
        z.Files.Write(fresh, (ulong)Chunk - 1, [7]);
        var back = new byte[Chunk];
        z.Files.Read(fresh, 0, back);
        Assert.Equal(Chunk - 1, back.AsSpan().IndexOfAnyExcept((byte)0));
    }

    [Fact]
    public void LargeFile_Uses2MiBChunks_ContiguousInTheZone()
    {
        using var zone = new TempZone(256UL << 20);
        using var z = zone.Open();
        ulong ino = z.Names.CreateFile("/big");
        z.Files.Write(ino, 0, new byte[40 * Chunk]);
        var s = z.Names.StatInode(ino);
        Assert.Equal(2, s.PageTableDepth);
        Assert.Equal((40UL * SgzAbi.PagesPerChunk) + 1, s.Pages);
        var first = z.PageTables.Map(ino, z.Inodes.Load(ino), 0);
        Assert.Equal(0UL, first.ZoneOffset % (ulong)Chunk);
        for (ulong c = 1; c < 40; c++)
        {
            var extent = z.PageTables.Map(ino, z.Inodes.Load(ino), c * Chunk);
            Assert.Equal(first.ZoneOffset + (c * Chunk), extent.ZoneOffset);
            Assert.Equal((ulong)Chunk, extent.Length);
        }
    }

    [Fact]
    public void SmallFile_Uses4KiBPages()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        ulong ino = z.Names.CreateFile("/small");
        z.Files.Write(ino, 0, new byte[10_000]);
        var s = z.Names.StatInode(ino);
        Assert.Equal(1, s.PageTableDepth);
        Assert.Equal(3UL + 1, s.Pages);
        Assert.Equal((ulong)SgzAbi.PageSize, z.PageTables.Map(ino, z.Inodes.Load(ino), 0).Length);
    }

    [Fact]
    public void TwoPeersAppendingAtOnce_FillTheirOwnGroups()
    {
        using var zone = new TempZone(1UL << 30);
        using var z = zone.Open();
        ulong a = z.Names.CreateFile("/a");
        ulong b = z.Names.CreateFile("/b");
        var chunk = new byte[Chunk];
        for (ulong i = 0; i < 12; i++)
        {
            z.Files.Write(a, i * Chunk, chunk, slot: 1);
            z.Files.Write(b, i * Chunk, chunk, slot: 2);
        }

        var owners = z.Allocator.GroupOwners.ToArray();
        var groupsOf = (ulong ino) => Enumerable.Range(0, 12)
            .Select(i => z.Geometry.PageIndex(z.PageTables.Map(ino, z.Inodes.Load(ino), (ulong)i * Chunk).ZoneOffset) / SgzAbi.PagesPerChunk / z.Geometry.GroupChunks)
            .ToHashSet();
        var groupsA = groupsOf(a);
        var groupsB = groupsOf(b);
        Assert.Empty(groupsA.Intersect(groupsB));
        Assert.All(groupsA, g => Assert.Equal(2, owners[g]));
        Assert.All(groupsB, g => Assert.Equal(3, owners[g]));
    }

    [Fact]
    public void Directory_GrowsPastOnePage_AndShrinksBackWhenEmptied()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        z.Names.MakeDirectory("/d");
        for (int i = 0; i < 3 * SgzAbi.DirentsPerPage; i++)
        {
            z.Names.CreateFile($"/d/file-{i}");
        }

        Assert.Equal(3UL * SgzAbi.PageSize, z.Names.Stat("/d").Size);
        Assert.Equal(3 * SgzAbi.DirentsPerPage, z.Names.ReadDirectory("/d").Count);
        for (int i = 0; i < 3 * SgzAbi.DirentsPerPage; i++)
        {
            z.Names.Unlink($"/d/file-{i}");
        }

        var d = z.Names.Stat("/d");
        Assert.Equal(0UL, d.Size);
        Assert.Equal(0UL, d.Pages);
        z.Names.RemoveDirectory("/d");
    }

    [Fact]
    public void Rename_DirectoryIntoItsOwnSubtree_FailsAndChangesNothing()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        z.Names.MakeDirectories("/a/b/c");
        var before = ZoneState.Capture(z);
        var e = Assert.Throws<ZoneException>(() => z.Names.Rename("/a", "/a/b/c/a"));
        Assert.Equal(ZoneError.InvalidArgument, e.Error);
        Assert.Equal(before, ZoneState.Capture(z));
    }

    [Fact]
    public void FailedChange_IsRolledBack_Completely()
    {
        using var zone = new TempZone(16UL << 20);
        using var z = zone.Open();
        z.Names.MakeDirectory("/keep");
        ulong ino = z.Names.CreateFile("/keep/f");
        z.Files.Write(ino, 0, "data"u8);
        var before = ZoneState.Capture(z);
        var summary = z.Summarize();
        var e = Assert.Throws<ZoneException>(() => z.Files.Write(z.Names.CreateFile("/huge"), 0, new byte[20 << 20]));
        Assert.Equal(ZoneError.NoSpace, e.Error);
        z.Names.Unlink("/huge");
        Assert.Equal(before, ZoneState.Capture(z));
        Assert.Equal(summary.DataBytesUsed, z.Summarize().DataBytesUsed);
    }
}
