using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Fsck;

/// <summary>fsck on wrong space accounting: the page bitmap, chunk_usage and free_pages are rebuilt from what is reachable.</summary>
public class SpaceCorruptionTests
{
    [Fact]
    public void Check_WhenAFreePageIsMarkedUsed_ClearsTheBit()
    {
        using var zone = new CorruptibleZone();
        ulong page = zone.Geometry.DataPages - 1;
        Assert.False(RawZone.PageBit(zone.Path, zone.Geometry, page));
        RawZone.SetPageBit(zone.Path, zone.Geometry, page, used: true);

        zone.FindsWithoutChanging("page bitmap: pages marked used that nothing references", $"data page {page} at 0x{zone.Geometry.PageOffset(page):x}");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.False(RawZone.PageBit(zone.Path, zone.Geometry, page));
    }

    [Fact]
    public void Check_WhenAUsedPageIsMarkedFree_SetsTheBit()
    {
        using var zone = new CorruptibleZone();
        ulong page = zone.Geometry.PageIndex(RawZone.DataPageOffset(zone.Path, zone.Geometry, zone.Ino("/small"), 4096));
        Assert.True(RawZone.PageBit(zone.Path, zone.Geometry, page));
        RawZone.SetPageBit(zone.Path, zone.Geometry, page, used: false);

        zone.FindsWithoutChanging("page bitmap: pages in use but marked free", $"data page {page} at 0x{zone.Geometry.PageOffset(page):x}");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.True(RawZone.PageBit(zone.Path, zone.Geometry, page));
    }

    [Fact]
    public void Check_WhenAChunkUsageCounterIsWrong_RecountsIt()
    {
        using var zone = new CorruptibleZone();
        ulong page = zone.Geometry.PageIndex(RawZone.DataPageOffset(zone.Path, zone.Geometry, zone.Ino("/small"), 0));
        ulong chunk = page / SgzAbi.PagesPerChunk;
        ulong at = zone.Geometry.ChunkUsage.Offset + (chunk * 2);
        ushort count = RawZone.Read<ushort>(zone.Path, at);
        RawZone.Write(zone.Path, at, (ushort)(count + 1));

        zone.FindsWithoutChanging("chunk usage", $"chunk {chunk} counts {count + 1}");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.Equal(count, RawZone.Read<ushort>(zone.Path, at));
    }

    [Fact]
    public void Check_WhenTheSuperblockFreePageCountIsWrong_RecountsIt()
    {
        using var zone = new CorruptibleZone();
        ulong free = RawZone.Read<ulong>(zone.Path, RawZone.SbFreePages);
        RawZone.Write(zone.Path, RawZone.SbFreePages, free - 10);
        RawZone.FixSuperblockCrc(zone.Path);

        zone.FindsWithoutChanging($"superblock: free_pages is {free - 10}, but {free} data pages are free");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.Equal(free, RawZone.Read<ulong>(zone.Path, RawZone.SbFreePages));
    }
}
