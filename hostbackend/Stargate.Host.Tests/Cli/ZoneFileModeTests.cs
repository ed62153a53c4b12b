using Stargate.Host.Zones;
using Stargate.Interop.Native;
using Stargate.Testing;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// A zone is never readable by every local user: `zone create` makes it 0600 whatever the
/// umask, or 0660 owned by the group `--group` names; `zone info` and `zone fsck` warn in one
/// line about a zone others may read or write.
/// </summary>
public class ZoneFileModeTests
{
    private const uint NoGroup = 65534;

    [Fact]
    public void ZoneCreate_UnderUmask022_MakesTheZoneReadableByItsOwnerOnly()
    {
        using var zone = new TempZone(format: false);
        var r = Create(zone.Path, "022");
        CliAssert.Succeeds(r);
        Assert.Equal((0x180u, Libc.Getgid()), ModeAndGroup(zone.Path));
    }

    [SkippableFact]
    public void ZoneCreate_WithGroupByName_Makes0660OwnedByThatGroup_EvenUnderUmask077()
    {
        Skip.If(UserDatabase.GroupId("nogroup") != NoGroup, "needs the group nogroup (65534)");
        using var zone = new TempZone(format: false);
        CliAssert.Succeeds(Create(zone.Path, "077", "--group", "nogroup"));
        Assert.Equal((0x1b0u, NoGroup), ModeAndGroup(zone.Path));
    }

    [Fact]
    public void ZoneCreate_WithGroupByNumber_Makes0660OwnedByThatGid()
    {
        using var zone = new TempZone(format: false);
        CliAssert.Succeeds(Create(zone.Path, "022", "--group", "4242"));
        Assert.Equal((0x1b0u, 4242u), ModeAndGroup(zone.Path));
    }

    [Fact]
    public void ZoneCreate_WithAnUnknownGroup_FailsWithOneLine_AndMakesNoFile()
    {
        using var zone = new TempZone(format: false);
        var r = Create(zone.Path, "022", "--group", "no-such-group-here");
        CliAssert.FailsWithOneLine(r, 2, "--group no-such-group-here: no such group");
        Assert.False(File.Exists(zone.Path));
    }

    [Fact]
    public void ZoneCreate_WithForce_OverAWorldReadableFile_LeavesItOwnerOnly()
    {
        using var zone = new TempZone(format: false);
        File.WriteAllText(zone.Path, "old");
        Sys.Check(Libc.Chmod(zone.Path, 0x1b6), "chmod", zone.Path);
        CliAssert.Succeeds(Create(zone.Path, "022", "--force"));
        Assert.Equal(0x180u, ModeAndGroup(zone.Path).Mode);
    }

    [Theory]
    [InlineData(0x1a4, "world-readable (mode 0644)")]
    [InlineData(0x182, "world-writable (mode 0602)")]
    [InlineData(0x1b6, "world-readable and world-writable (mode 0666)")]
    public void ZoneInfoAndFsck_OnAZoneOthersMayReach_WarnInOneLine_AndStillSucceed(int mode, string said)
    {
        using var zone = new TempZone(16UL << 20);
        Sys.Check(Libc.Chmod(zone.Path, (uint)mode), "chmod", zone.Path);
        foreach (string[] command in new[] { new[] { "zone", "info", zone.Path }, ["zone", "fsck", zone.Path] })
        {
            var r = StargateProcess.Run(command);
            Assert.Equal(0, r.ExitCode);
            Assert.Equal($"stargate: warning: {zone.Path} is {said}: every local user can reach every file in the zone; chmod 600 it, or chgrp it to QEMU's group and chmod 660\n", r.Stderr);
        }
    }

    [Fact]
    public void ZoneInfoAndFsck_OnAnOwnerOnlyZone_SayNothingOnStderr()
    {
        using var zone = new TempZone(16UL << 20);
        CliAssert.Succeeds(StargateProcess.Run("zone", "info", zone.Path));
        CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));
    }

    [Fact]
    public void Serve_WritesZoneServeOwnerOnly_AndListensOnOwnerOnlySockets()
    {
        using var zone = new TempZone(16UL << 20);
        using (BackgroundStargate.Serve(zone))
        {
            Assert.Equal(0x180u, ModeAndGroup(zone.Path + ".serve").Mode);
            Assert.Equal(0x180u, ModeAndGroup(zone.Path + ".sock").Mode);
            Assert.Equal(0x180u, ModeAndGroup(zone.Path + ".sock.ctl").Mode);
            Assert.Empty(Directory.EnumerateFiles("/dev/shm", $".{Path.GetFileName(zone.Path)}.serve.*"));
        }
    }

    /// <summary>`zone create` of 16 MiB under <paramref name="umask"/>, through sh.</summary>
    private static StargateProcess.Result Create(string path, string umask, params string[] more) =>
        StargateProcess.RunProgram("/bin/sh", ["-c", $"umask {umask} && exec \"$@\"", "sh", "dotnet", Path.Combine(AppContext.BaseDirectory, "stargate.dll"), "zone", "create", path, "--size", "16M", .. more]);

    private static (uint Mode, uint Gid) ModeAndGroup(string path)
    {
        Sys.Check(Libc.Lstat(path, out var status), "lstat", path);
        return (status.Permissions, status.Gid);
    }
}
