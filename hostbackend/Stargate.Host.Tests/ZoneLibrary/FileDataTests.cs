using Stargate.Host.Zone;
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
        ulong ino = z.CreateFile("/sparse");
        z.Write(ino, 10_000_000, "tail"u8);
        var s = z.StatInode(ino);
        Assert.Equal(10_000_004UL, s.Size);
        Assert.True(s.Pages <= SgzAbi.PagesPerChunk + 2, $"a sparse write allocated {s.Pages} pages");
        var all = new byte[s.Size];
        Assert.Equal(all.Length, z.Read(ino, 0, all));
        Assert.All(all.AsSpan(0, 10_000_000).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal("tail"u8.ToArray(), all[^4..]);
    }

    [Fact]
    public void Truncate_ShrinkThenGrow_ExposesZerosNotOldData()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        ulong ino = z.CreateFile("/f");
        var data = Enumerable.Repeat((byte)0xAB, 3 * Chunk).ToArray();
        z.Write(ino, 0, data);
        z.Truncate(ino, 1000);
        z.Truncate(ino, (ulong)data.Length);
        var back = new byte[data.Length];
        z.Read(ino, 0, back);
        Assert.All(back.AsSpan(0, 1000).ToArray(), b => Assert.Equal(0xAB, b));
        Assert.Equal(-1, back.AsSpan(1000).IndexOfAnyExcept((byte)0));
    }

    [Fact]
    public void Truncate_Shrink_FreesWholeChunksAndPages()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        ulong ino = z.CreateFile("/f");
        ulong free0 = z.Summarize().DataBytes - z.Summarize().DataBytesUsed;
        z.Write(ino, 0, new byte[5 * Chunk]);
        z.Truncate(ino, Chunk + 1);
        var s = z.StatInode(ino);
        Assert.Equal(2UL * SgzAbi.PagesPerChunk + 1, s.Pages); // two chunks kept (the second partly), one table node
        z.Truncate(ino, 0);
        Assert.Equal(0UL, z.StatInode(ino).Pages);
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
            ulong ino = z.CreateFile($"/fill{round}");
            // Nearly the whole data region: only possible if the last round's space came back.
            ulong size = data - (4 * (ulong)Chunk);
            z.Write(ino, 0, Enumerable.Repeat((byte)(round + 1), (int)size).ToArray());
            z.Unlink($"/fill{round}");
        }

        ulong fresh = z.CreateFile("/fresh");
        z.Write(fresh, (ulong)Chunk - 1, [7]);
        var back = new byte[Chunk];
        z.Read(fresh, 0, back);
        Assert.Equal(Chunk - 1, back.AsSpan().IndexOfAnyExcept((byte)0));
    }

    [Fact]
    public void LargeFile_Uses2MiBChunks_ContiguousInTheZone()
    {
        using var zone = new TempZone(256UL << 20);
        using var z = zone.Open();
        ulong ino = z.CreateFile("/big");
        z.Write(ino, 0, new byte[40 * Chunk]);
        var s = z.StatInode(ino);
        Assert.Equal(2, s.PageTableDepth);
        Assert.Equal((40UL * SgzAbi.PagesPerChunk) + 1, s.Pages);
        var first = z.Map(ino, z.LoadInode(ino), 0);
        Assert.Equal(0UL, first.ZoneOffset % (ulong)Chunk);
        for (ulong c = 1; c < 40; c++)
        {
            var extent = z.Map(ino, z.LoadInode(ino), c * Chunk);
            Assert.Equal(first.ZoneOffset + (c * Chunk), extent.ZoneOffset);
            Assert.Equal((ulong)Chunk, extent.Length);
        }
    }

    [Fact]
    public void SmallFile_Uses4KiBPages()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        ulong ino = z.CreateFile("/small");
        z.Write(ino, 0, new byte[10_000]);
        var s = z.StatInode(ino);
        Assert.Equal(1, s.PageTableDepth);
        Assert.Equal(3UL + 1, s.Pages);
        Assert.Equal((ulong)SgzAbi.PageSize, z.Map(ino, z.LoadInode(ino), 0).Length);
    }

    [Fact]
    public void TwoPeersAppendingAtOnce_FillTheirOwnGroups()
    {
        using var zone = new TempZone(1UL << 30);
        using var z = zone.Open();
        ulong a = z.CreateFile("/a");
        ulong b = z.CreateFile("/b");
        var chunk = new byte[Chunk];
        for (ulong i = 0; i < 12; i++)
        {
            z.Write(a, i * Chunk, chunk, slot: 1);
            z.Write(b, i * Chunk, chunk, slot: 2);
        }

        var owners = z.GroupOwners.ToArray();
        var groupsOf = (ulong ino) => Enumerable.Range(0, 12)
            .Select(i => z.Geometry.PageIndex(z.Map(ino, z.LoadInode(ino), (ulong)i * Chunk).ZoneOffset) / SgzAbi.PagesPerChunk / z.Geometry.GroupChunks)
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
        z.MakeDirectory("/d");
        for (int i = 0; i < 3 * SgzAbi.DirentsPerPage; i++)
        {
            z.CreateFile($"/d/file-{i}");
        }

        Assert.Equal(3UL * SgzAbi.PageSize, z.Stat("/d").Size);
        Assert.Equal(3 * SgzAbi.DirentsPerPage, z.ReadDirectory("/d").Count);
        for (int i = 0; i < 3 * SgzAbi.DirentsPerPage; i++)
        {
            z.Unlink($"/d/file-{i}");
        }

        var d = z.Stat("/d");
        Assert.Equal(0UL, d.Size);
        Assert.Equal(0UL, d.Pages);
        z.RemoveDirectory("/d");
    }

    [Fact]
    public void Rename_DirectoryIntoItsOwnSubtree_FailsAndChangesNothing()
    {
        using var zone = new TempZone();
        using var z = zone.Open();
        z.MakeDirectories("/a/b/c");
        var before = ZoneState.Capture(z);
        var e = Assert.Throws<ZoneException>(() => z.Rename("/a", "/a/b/c/a"));
        Assert.Equal(ZoneError.InvalidArgument, e.Error);
        Assert.Equal(before, ZoneState.Capture(z));
    }

    [Fact]
    public void FailedChange_IsRolledBack_Completely()
    {
        using var zone = new TempZone(16UL << 20);
        using var z = zone.Open();
        z.MakeDirectory("/keep");
        ulong ino = z.CreateFile("/keep/f");
        z.Write(ino, 0, "data"u8);
        var before = ZoneState.Capture(z);
        var summary = z.Summarize();
        var e = Assert.Throws<ZoneException>(() => z.Write(z.CreateFile("/huge"), 0, new byte[20 << 20]));
        Assert.Equal(ZoneError.NoSpace, e.Error);
        z.Unlink("/huge");
        Assert.Equal(before, ZoneState.Capture(z));
        Assert.Equal(summary.DataBytesUsed, z.Summarize().DataBytesUsed);
    }
}
