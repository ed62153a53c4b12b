using Stargate.Host.Tests.Cli;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Fsck;

/// <summary>fsck on corrupt directory entries: found by slot offset, cleared by repair, other files kept.</summary>
public class DirectoryCorruptionTests
{
    [Fact]
    public void Check_WhenAnEntryFailsItsChecksum_ClearsTheEntryAndKeepsTheOtherFiles()
    {
        using var zone = new CorruptibleZone();
        ulong at = zone.DirentOffset("/small");
        RawZone.FlipByte(zone.Path, at + RawZone.DirentReserved1);

        zone.FindsWithoutChanging("directory inode 1", $"entry at 0x{at:x}", "checksum mismatch");
        zone.RepairsToClean();

        zone.AssertIntact("/small");
    }

    [Fact]
    public void Check_WhenAnEntryNamesAFreeInode_ClearsTheEntry()
    {
        using var zone = new CorruptibleZone();
        const ulong free = 300;
        ulong at = zone.DirentOffset("/small");
        RawZone.Write(zone.Path, at + RawZone.DirentIno, free);
        RawZone.FixDirentCrc(zone.Path, at);

        zone.FindsWithoutChanging("directory inode 1", $"entry at 0x{at:x}", $"'small' names free inode {free}");
        zone.RepairsToClean();

        zone.AssertIntact("/small");
        Assert.Equal(["big", "docs", "empty"], ZoneContent.List(zone.Path, "/"));
        Assert.False(RawZone.InodeBit(zone.Path, zone.Geometry, free));
    }

    [Fact]
    public void Check_WhenANameIsListedTwice_ClearsTheSecondEntry()
    {
        using var zone = new CorruptibleZone();
        ulong original = zone.DirentOffset("/small");
        ulong copy = RawZone.LastFreeSlot(zone.Path, zone.Geometry, SgzAbi.RootIno);
        RawZone.WriteBytes(zone.Path, copy, RawZone.ReadBytes(zone.Path, original, SgzAbi.DirentSize));

        zone.FindsWithoutChanging("directory inode 1", $"entry at 0x{copy:x}", "duplicate name 'small'");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.Equal(["big", "docs", "empty", "small"], ZoneContent.List(zone.Path, "/"));
        Assert.Equal(0UL, RawZone.Read<ulong>(zone.Path, copy + RawZone.DirentIno));
    }
}
