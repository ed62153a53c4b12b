using Stargate.Host.Zones;
using Stargate.Testing;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// ZONE.serve, which names the running serve's control socket, sits beside the zone, often
/// in a directory every user may write (/dev/shm): serve never writes through a symlink
/// there or over another user's file, and a client never follows a symlink to read it.
/// </summary>
public class ZoneServeFileTests
{
    [Fact]
    public void Serve_WhenZoneServeIsASymlink_RefusesWithOneLine_AndWritesNothingThroughIt()
    {
        using var zone = new TempZone(16UL << 20);
        string target = zone.Scratch("target");
        string link = zone.Scratch("serve");
        File.CreateSymbolicLink(link, target);
        zone.Scratch("sock");
        zone.Scratch("sock.ctl");

        var r = StargateProcess.Run("serve", zone.Path, "--socket", zone.Path + ".sock");
        Assert.Equal(1, r.ExitCode);
        Assert.EndsWith($"stargate: {link} is a symlink; serve writes only its own regular file there: remove it and start serve again\n", r.Stderr);
        Assert.False(File.Exists(target), "serve wrote through the symlink");
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.False(File.Exists(zone.Path + ".sock") || File.Exists(zone.Path + ".sock.ctl"), "a refused serve left its sockets");
    }

    [SkippableFact]
    public void Serve_WhenZoneServeBelongsToAnotherUser_RefusesWithOneLine_AndLeavesIt()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var zone = new TempZone(16UL << 20);
        string file = zone.Scratch("serve");
        File.WriteAllText(file, "/theirs.ctl\n");
        ProcessRunner.RunChecked("chown", ["65534", file]);
        zone.Scratch("sock");
        zone.Scratch("sock.ctl");

        var r = StargateProcess.Run("serve", zone.Path, "--socket", zone.Path + ".sock");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"stargate: {file} is owned by uid 65534", r.Stderr);
        Assert.Equal("/theirs.ctl\n", File.ReadAllText(file));
    }

    [Fact]
    public void Writer_WhenZoneServeIsASymlinkToAFileNamingTheLiveServe_DoesNotFollowIt_AndFailsAsBusy()
    {
        using var zone = new TempZone(16UL << 20);
        using var serve = BackgroundStargate.Serve(zone);
        string named = zone.Scratch("named");
        File.Move(zone.Path + ".serve", named);
        File.CreateSymbolicLink(zone.Path + ".serve", named);

        var r = StargateProcess.Run("mkdir", zone.Path, "/d");
        CliAssert.FailsWithOneLine(r, 1, zone.Path, "(stargate serve)");
        Assert.False(ZoneContent.Exists(zone.Path, "/d"));

        // The same file, not a symlink: the command is forwarded as usual.
        File.Delete(zone.Path + ".serve");
        File.Move(named, zone.Path + ".serve");
        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "/d"));
    }
}
