using Stargate.Host.Tests.Fsck;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// Zones that cannot be used: each command fails with one line naming the
/// file and what is wrong with it, and leaves every byte of the file alone.
/// </summary>
public class ZoneOpenErrorTests
{
    [Theory]
    [InlineData("random bytes", "ls")]
    [InlineData("random bytes", "mkdir")]
    [InlineData("zeros", "ls")]
    [InlineData("zeros", "mkdir")]
    [InlineData("shorter than a page", "ls")]
    [InlineData("shorter than a page", "mkdir")]
    public void Command_WhenFileIsNotAZone_FailsWithOneLineAndChangesNothing(string kind, string command)
    {
        using var zone = new TempZone(format: false);
        byte[] content = kind switch
        {
            "random bytes" => ZoneContent.Bytes(1 << 20, 6),
            "zeros" => new byte[1 << 20],
            _ => ZoneContent.Bytes(1000, 7),
        };
        File.WriteAllBytes(zone.Path, content);

        var r = command == "ls" ? StargateProcess.Run("ls", zone.Path) : StargateProcess.Run("mkdir", zone.Path, "/d");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, "is not a Stargate zone");
        ZoneContent.AssertSameBytes(content, File.ReadAllBytes(zone.Path), "the file");
    }

    [Fact]
    public void Ls_WhenZoneFileIsMissing_FailsWithOneLineNamingIt()
    {
        using var zone = new TempZone(format: false);
        var r = StargateProcess.Run("ls", zone.Path);
        CliAssert.FailsWithOneLine(r, 1, zone.Path, "no such zone file");
        Assert.False(File.Exists(zone.Path));
    }

    [Theory]
    [InlineData("ls")]
    [InlineData("mkdir")]
    public void Command_WhenZoneHasANewerMajorVersion_FailsWithOneLineNamingBothVersions(string command)
    {
        using var zone = new TempZone(16UL << 20);
        RawZone.Write(zone.Path, RawZone.SbVersionMajor, (ushort)(SgzAbi.VersionMajor + 1));
        RawZone.FixSuperblockCrc(zone.Path);
        byte[] before = File.ReadAllBytes(zone.Path);

        var r = command == "ls" ? StargateProcess.Run("ls", zone.Path) : StargateProcess.Run("mkdir", zone.Path, "/d");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, $"format {SgzAbi.VersionMajor + 1}.{SgzAbi.VersionMinor}", $"format {SgzAbi.VersionMajor}.x", "upgrade");
        ZoneContent.AssertSameBytes(before, File.ReadAllBytes(zone.Path), "the zone file");
    }

    [Theory]
    [InlineData("ls")]
    [InlineData("mkdir")]
    public void Command_WhenSuperblockChecksumFails_FailsWithOneLineNamingSuperblockAndOffset(string command)
    {
        using var zone = new TempZone(16UL << 20);
        RawZone.FlipByte(zone.Path, RawZone.SbCreatedNs);
        byte[] before = File.ReadAllBytes(zone.Path);

        var r = command == "ls" ? StargateProcess.Run("ls", zone.Path) : StargateProcess.Run("mkdir", zone.Path, "/d");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, "superblock checksum", $"0x{RawZone.SbCrc:x}", "fsck");
        ZoneContent.AssertSameBytes(before, File.ReadAllBytes(zone.Path), "the zone file");
    }

    [Theory]
    [InlineData("cat")]
    [InlineData("stat")]
    [InlineData("get")]
    public void Reader_WhenAnInodeChecksumFails_FailsWithOneLineNamingTheInodeAndItsOffset(string command)
    {
        using var zone = new TempZone(16UL << 20);
        ulong ino = ZoneContent.Write(zone, "/f", ZoneContent.Bytes(5000, 8));
        byte[] other = ZoneContent.Bytes(7000, 9);
        ZoneContent.Write(zone, "/other", other);
        ulong at;
        using (var z = zone.Open(ZoneAccess.ReadOnly))
        {
            at = z.Geometry.InodeOffset(ino);
        }

        RawZone.FlipByte(zone.Path, at + RawZone.InodeUid);
        byte[] before = File.ReadAllBytes(zone.Path);
        string local = zone.Scratch("got");

        var r = command == "get" ? StargateProcess.Run("get", zone.Path, "/f", local) : StargateProcess.Run(command, zone.Path, "/f");

        CliAssert.FailsWithOneLine(r, 1, $"inode {ino}", $"0x{at:x}", "checksum", "fsck");
        ZoneContent.AssertSameBytes(before, File.ReadAllBytes(zone.Path), "the zone file");
        ZoneContent.AssertHolds(zone.Path, "/other", other);
    }

    [Fact]
    public void Rm_WhenTheInodeChecksumFails_FailsWithOneLineAndLeavesTheInodeAndOtherFiles()
    {
        using var zone = new TempZone(16UL << 20);
        ulong ino = ZoneContent.Write(zone, "/f", ZoneContent.Bytes(5000, 10));
        byte[] other = ZoneContent.Bytes(7000, 11);
        ZoneContent.Write(zone, "/other", other);
        ulong at;
        using (var z = zone.Open(ZoneAccess.ReadOnly))
        {
            at = z.Geometry.InodeOffset(ino);
        }

        RawZone.FlipByte(zone.Path, at + RawZone.InodeUid);
        byte[] inodeBefore = RawZone.ReadBytes(zone.Path, at, 128);

        var r = StargateProcess.Run("rm", zone.Path, "/f");

        CliAssert.FailsWithOneLine(r, 1, $"inode {ino}", $"0x{at:x}", "checksum");
        ZoneContent.AssertSameBytes(inodeBefore, RawZone.ReadBytes(zone.Path, at, 128), "the inode's host half");
        Assert.Equal(["f", "other"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertHolds(zone.Path, "/other", other);
    }
}
