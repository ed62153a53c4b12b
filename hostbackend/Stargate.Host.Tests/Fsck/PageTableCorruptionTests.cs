using Stargate.Host.Tests.Cli;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Fsck;

/// <summary>
/// Page-table entries that point where they must not: readers refuse them
/// with ZoneCorruptException (never a stray access), fsck names the entry,
/// and repair cuts it so that every data page has one owner.
/// </summary>
public class PageTableCorruptionTests
{
    private const ulong EntryFlags = SgzAbi.PtePresent | SgzAbi.PteWritable;

    [Fact]
    public void Read_WhenAnEntryPointsOutsideTheDataRegion_ThrowsZoneCorruptNamingTheEntry()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/small");
        ulong entry = RawZone.LeafEntryOffset(zone.Path, zone.Geometry, ino, 0);
        RawZone.Write(zone.Path, entry, zone.Geometry.Journal.Offset | EntryFlags);

        using var z = Zone.Open(zone.Path, ZoneAccess.ReadOnly);
        var e = Assert.Throws<ZoneCorruptException>(() => z.Files.Read(ino, 0, new byte[10_000]));

        Assert.Contains($"inode {ino}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"0x{entry:x}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cat_WhenAnEntryPointsOutsideTheDataRegion_FailsWithOneLine()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/small");
        ulong entry = RawZone.LeafEntryOffset(zone.Path, zone.Geometry, ino, 0);
        RawZone.Write(zone.Path, entry, (zone.Geometry.ZoneSize + (1UL << 30)) | EntryFlags);

        var r = StargateProcess.Run("cat", zone.Path, "/small");

        CliAssert.FailsWithOneLine(r, 1, $"inode {ino}", $"0x{entry:x}", "outside the data region");
    }

    [Fact]
    public void Check_WhenARegularFilesPageLiesInTheStructurePool_CutsIt()
    {
        using var zone = new CorruptibleZone();
        var g = zone.Geometry;
        ulong ino = zone.Ino("/small");
        ulong entry = RawZone.LeafEntryOffset(zone.Path, g, ino, 0);
        RawZone.Write(zone.Path, entry, g.PageOffset(g.PoolPages - 1) | EntryFlags);

        zone.FindsWithoutChanging($"inode {ino}: page-table entry", $"at 0x{entry:x}", "outside the data chunks");
        zone.RepairsToClean();
        zone.AssertIntact("/small");
    }

    [Fact]
    public void Check_WhenATableNodeLiesInTheDataChunks_CutsIt()
    {
        using var zone = new CorruptibleZone();
        var g = zone.Geometry;
        ulong ino = zone.Ino("/big");
        ulong root = RawZone.Inode(zone.Path, g, ino).PtRoot;
        RawZone.Write(zone.Path, root, g.PageOffset(g.DataPages - 1) | EntryFlags); // entry 0: a "table" in Z.data

        zone.FindsWithoutChanging($"inode {ino}: page-table entry", $"at 0x{root:x}", "outside the structure pool");
        zone.RepairsToClean();
        zone.AssertIntact("/big");
    }

    [Fact]
    public void Check_WhenAnEntryPointsOutsideTheDataRegion_CutsIt()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/small");
        ulong entry = RawZone.LeafEntryOffset(zone.Path, zone.Geometry, ino, 0);
        RawZone.Write(zone.Path, entry, zone.Geometry.Journal.Offset | EntryFlags);

        zone.FindsWithoutChanging($"inode {ino}: page-table entry", $"at 0x{entry:x}", "outside the data region");
        zone.RepairsToClean();

        zone.AssertIntact("/small");
        byte[] expected = zone.Files["/small"].ToArray();
        expected.AsSpan(0, SgzAbi.PageSize).Clear();
        ZoneContent.AssertHolds(zone.Path, "/small", expected);
    }

    [Fact]
    public void Check_WhenTwoFilesShareADataPage_GivesThePageOneOwner()
    {
        using var zone = new CorruptibleZone();
        ulong small = zone.Ino("/small");
        ulong note = zone.Ino("/docs/note");
        ulong shared = RawZone.Read<ulong>(zone.Path, RawZone.LeafEntryOffset(zone.Path, zone.Geometry, small, 0));
        ulong page = zone.Geometry.PageIndex(shared & SgzAbi.PteAddrMask);
        ulong noteEntry = RawZone.LeafEntryOffset(zone.Path, zone.Geometry, note, 0);
        RawZone.Write(zone.Path, noteEntry, shared);

        zone.FindsWithoutChanging($"inode {note}: entry at 0x{noteEntry:x} uses data page {page}", $"already used by inode {small}");
        zone.RepairsToClean();

        zone.AssertIntact("/docs/note");
        byte[] note0 = zone.Files["/docs/note"].ToArray();
        note0.AsSpan(0, SgzAbi.PageSize).Clear();
        ZoneContent.AssertHolds(zone.Path, "/docs/note", note0);

        // One owner: writing /small no longer shows through /docs/note.
        using (var z = Zone.Open(zone.Path, ZoneAccess.ReadWrite))
        {
            z.Files.Write(small, 0, Enumerable.Repeat((byte)0xab, SgzAbi.PageSize).ToArray());
        }

        ZoneContent.AssertHolds(zone.Path, "/docs/note", note0);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Check_WhenAFilePointsIntoAnotherFiles2MiBLeaf_NamesThatFileAsTheOwner()
    {
        using var zone = new CorruptibleZone();
        ulong big = zone.Ino("/big");
        ulong note = zone.Ino("/docs/note");
        ulong leaf = RawZone.Read<ulong>(zone.Path, RawZone.LeafEntryOffset(zone.Path, zone.Geometry, big, 0));
        Assert.True((leaf & SgzAbi.PteHuge) != 0, "/big should start with a 2 MiB leaf");
        ulong inside = (leaf & SgzAbi.PmdAddrMask) + SgzAbi.PageSize;
        ulong noteEntry = RawZone.LeafEntryOffset(zone.Path, zone.Geometry, note, 0);
        RawZone.Write(zone.Path, noteEntry, inside | EntryFlags);

        zone.FindsWithoutChanging(
            $"inode {note}: entry at 0x{noteEntry:x} uses data page {zone.Geometry.PageIndex(inside)}", $"already used by inode {big}");
        zone.RepairsToClean();

        zone.AssertIntact("/docs/note");
    }
}
