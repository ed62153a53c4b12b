using Stargate.Host.Tests.Cli;

namespace Stargate.Host.Tests.Fsck;

/// <summary>`stargate zone fsck` exit codes: 0 clean, 1 problems found, 2 not a usable zone.</summary>
public class FsckCommandTests
{
    [Fact]
    public void ZoneFsck_WhenALinkCountIsWrong_ExitsOneAndRepairLeavesItClean()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/small");
        ulong at = zone.Geometry.InodeOffset(ino);
        RawZone.Write(zone.Path, at + RawZone.InodeNlink, 3u);
        RawZone.FixInodeCrc(zone.Path, at);
        byte[] before = File.ReadAllBytes(zone.Path);

        var check = StargateProcess.Run("zone", "fsck", zone.Path);
        ZoneContent.AssertSameBytes(before, File.ReadAllBytes(zone.Path), "the zone file after fsck without --repair");
        var repair = StargateProcess.Run("zone", "fsck", zone.Path, "--repair");
        var again = StargateProcess.Run("zone", "fsck", zone.Path);

        Assert.True(check.ExitCode == 1 && check.Stderr.Length == 0, check.ToString());
        Assert.Contains($"problem: inode {ino}: link count 3, but 1 found", CliAssert.Lines(check));
        Assert.EndsWith("run 'stargate zone fsck --repair' to fix them", CliAssert.Lines(check)[^1], StringComparison.Ordinal);
        Assert.True(repair.ExitCode == 1 && repair.Stderr.Length == 0, repair.ToString());
        Assert.EndsWith("found and repaired", CliAssert.Lines(repair)[^1], StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0 && again.Stderr.Length == 0, again.ToString());
        Assert.Equal($"{zone.Path}: clean", CliAssert.Lines(again)[^1]);
        zone.AssertIntact();
    }

    [Fact]
    public void ZoneFsck_WhenAnInodeHasAnUnknownType_ExitsOneListingIt()
    {
        using var zone = new CorruptibleZone();
        ulong ino = zone.Ino("/small");
        ulong at = zone.Geometry.InodeOffset(ino);
        RawZone.Write(zone.Path, at + RawZone.InodeMode, Stargate.Interop.Abi.SgzAbi.SIfmt | 0x1a4u);
        RawZone.FixInodeCrc(zone.Path, at);

        var r = StargateProcess.Run("zone", "fsck", zone.Path);

        Assert.True(r.ExitCode == 1 && r.Stderr.Length == 0, r.ToString());
        Assert.Contains(CliAssert.Lines(r), l => l.StartsWith($"problem: inode {ino} (at 0x{at:x}): unusable", StringComparison.Ordinal));
    }

    [Fact]
    public void ZoneFsck_WhenOnlyTheSuperblockChecksumIsWrong_ExitsOneNotTwo()
    {
        using var zone = new CorruptibleZone();
        RawZone.FlipByte(zone.Path, RawZone.SbCreatedNs);

        var r = StargateProcess.Run("zone", "fsck", zone.Path);

        Assert.True(r.ExitCode == 1, $"a superblock that --repair can fix is a problem found (1), not an unusable zone (2)\n{r}");
        Assert.Contains("superblock", r.Stdout, StringComparison.Ordinal);
    }
}
