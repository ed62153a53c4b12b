using Stargate.Host.Tests.Cli;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Fsck;

/// <summary>fsck on corrupt inode records: found without a write, repaired to a clean zone, files kept.</summary>
public class InodeCorruptionTests
{
    [Fact]
    public void Check_WhenAnInodeFieldChangedWithoutItsChecksum_RewritesTheChecksumAndKeepsTheFile()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/small");
        ulong at = zone.Geometry.InodeOffset(ino);
        uint uid = RawZone.Read<uint>(zone.Path, at + RawZone.InodeUid);
        RawZone.Write(zone.Path, at + RawZone.InodeUid, uid + 1);

        zone.FindsWithoutChanging($"inode {ino} (at 0x{at:x})", "checksum mismatch");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.Equal(uid + 1, RawZone.Inode(zone.Path, zone.Geometry, ino).Uid);
    }

    [Fact]
    public void Check_WhenAnInodeHasAnImpossibleType_DropsItsEntryAndKeepsTheRest()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/small");
        ulong at = zone.Geometry.InodeOffset(ino);
        RawZone.Write(zone.Path, at + RawZone.InodeMode, SgzAbi.SIfmt | 0x1a4u);
        RawZone.FixInodeCrc(zone.Path, at);

        zone.FindsWithoutChanging($"inode {ino} (at 0x{at:x})", "unknown type 0170644");
        zone.FindsWithoutChanging("directory inode 1", "'small' names unusable inode");
        zone.RepairsToClean();

        zone.AssertIntact("/small");
        Assert.Equal(["big", "docs", "empty"], ZoneContent.List(zone.Path, "/"));
        Assert.False(RawZone.InodeBit(zone.Path, zone.Geometry, ino));
    }

    [Fact]
    public void Check_WhenALinkCountIsWrong_SetsItBack()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/docs/note");
        ulong at = zone.Geometry.InodeOffset(ino);
        RawZone.Write(zone.Path, at + RawZone.InodeNlink, 5u);
        RawZone.FixInodeCrc(zone.Path, at);

        zone.FindsWithoutChanging($"inode {ino}: link count 5, but 1 found");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.Equal(1u, RawZone.Inode(zone.Path, zone.Geometry, ino).Nlink);
    }

    [Fact]
    public void Check_WhenAnInodeIsInUseButNoDirectoryReachesIt_FreesIt()
    {
        using var zone = new CorruptibleZone();
        const ulong orphan = 300;
        ulong at = zone.Geometry.InodeOffset(orphan);
        Assert.False(RawZone.InodeBit(zone.Path, zone.Geometry, orphan));
        RawZone.SetInodeBit(zone.Path, zone.Geometry, orphan);
        RawZone.Write(zone.Path, at + RawZone.InodeMode, SgzAbi.SIfreg | 0x1a4u);
        RawZone.Write(zone.Path, at + RawZone.InodeNlink, 1u);
        RawZone.FixInodeCrc(zone.Path, at);

        zone.FindsWithoutChanging("marked in use that no directory reaches", $"inode {orphan}");
        zone.RepairsToClean();

        zone.AssertIntact();
        Assert.False(RawZone.InodeBit(zone.Path, zone.Geometry, orphan));
        Assert.Equal(0u, RawZone.Inode(zone.Path, zone.Geometry, orphan).Mode);
        const ulong live = 6; // root, docs, small, big, empty, note
        Assert.Equal(zone.Geometry.InodeCount - 1 - live, RawZone.Read<ulong>(zone.Path, RawZone.SbFreeInodes));
    }
}
