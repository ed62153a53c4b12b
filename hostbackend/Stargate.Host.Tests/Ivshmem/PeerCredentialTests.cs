using Stargate.Host.Ivshmem;
using Stargate.Host.Tests.Cli;
using Stargate.Host.Zones;
using Stargate.Interop.Native;
using Stargate.Testing;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>
/// Who may use the service's sockets (SO_PEERCRED): its own user, root, and what
/// --allow-user and --allow-group name; everyone else is closed on before anything is sent
/// (ivshmem socket) or gets an error line (control socket), and is logged with pid and uid.
/// The other user is nobody, run through setpriv (<see cref="OtherUser"/>).
/// </summary>
public class PeerCredentialTests
{
    private const uint SomeoneElse = 4242;

    [SkippableFact]
    public void IvshmemSocket_FromAUserNotAllowed_IsClosedBeforeAnyMessageOrFd_AndLoggedWithPidAndUid()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var server = new RunningServer(access: new PeerAccess([SomeoneElse], []));
        var r = OtherUser.Run(OtherUser.IvshmemClient, [server.Socket]);
        Assert.Equal("closed\nmessages fds 0\n", r.Stdout);
        string line = server.Log.WaitFor("refused a connection");
        Assert.Contains("uid 65534", line);
        Assert.Contains("pid ", line);
        Assert.Single(server.Log.Lines, l => l.Contains("refused a connection", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Server.Peers(), p => p.Kind == "guest");
    }

    [SkippableFact]
    public void IvshmemSocket_FromAnAllowedUser_GetsVersionIdAndTheZoneFd()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var server = new RunningServer(access: new PeerAccess([OtherUser.Nobody], []));
        var r = OtherUser.Run(OtherUser.IvshmemClient, [server.Socket]);
        Assert.Equal("messages 0 1 -1 fds 1\n", r.Stdout);
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains("refused", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void IvshmemSocket_FromAProcessWhoseGidIsAllowed_IsAccepted()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var server = new RunningServer(access: new PeerAccess([], [SomeoneElse]));
        var r = OtherUser.Run(OtherUser.IvshmemClient, [server.Socket], gid: SomeoneElse);
        Assert.Equal("messages 0 1 -1 fds 1\n", r.Stdout);
    }

    [SkippableFact]
    public void IvshmemSocket_FromAMemberOfAnAllowedGroupPerTheDatabase_IsAccepted_ThoughItRunsUnderAnotherGid()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        Skip.If(UserDatabase.User(OtherUser.Nobody) is not (_, OtherUser.Nobody), "needs nobody's passwd group to be 65534");

        // Runs with gid 4242 and no supplementary groups: only the group database says nobody is in 65534.
        using var server = new RunningServer(access: new PeerAccess([], [OtherUser.Nobody]));
        var r = OtherUser.Run(OtherUser.IvshmemClient, [server.Socket], gid: SomeoneElse);
        Assert.Equal("messages 0 1 -1 fds 1\n", r.Stdout);
    }

    [SkippableFact]
    public void ControlSocket_EveryRequest_FromAUserNotAllowed_IsRefused_AndLogged()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var server = new RunningServer(access: new PeerAccess([SomeoneElse], []));
        foreach (string request in new[] { "peers", "ring 1 0", "lock {}", "run {}" })
        {
            var r = OtherUser.Run(OtherUser.ControlClient, [server.Socket + ".ctl", request]);
            Assert.StartsWith("error: uid 65534 (pid ", r.Stdout);
            Assert.Contains("not this service's user", r.Stdout);
        }

        Assert.Equal(4, server.Log.Lines.Count(l => l.Contains("refused a connection on " + server.Socket + ".ctl", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void ControlSocket_FromAnAllowedUser_AnswersPeers_ButNotRequestsThatActAsTheService()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var server = new RunningServer(access: new PeerAccess([OtherUser.Nobody], []));
        var peers = OtherUser.Run(OtherUser.ControlClient, [server.Socket + ".ctl", "peers"]);
        Assert.StartsWith("[{\"id\":0,\"kind\":\"host\"", peers.Stdout);
        var run = OtherUser.Run(OtherUser.ControlClient, [server.Socket + ".ctl", "run {\"argv\":[\"mkdir\"],\"cwd\":\"/\"}"]);
        Assert.StartsWith("error: uid 65534 may not act as this service", run.Stdout);
    }

    [Fact]
    public void Sockets_AreOwnerOnly_WithoutAllowances_AndOpenToConnect_WithThem()
    {
        using (var closed = new RunningServer())
        {
            Assert.Equal(0x180u, Permissions(closed.Socket));
            Assert.Equal(0x180u, Permissions(closed.Socket + ".ctl"));
        }

        using var open = new RunningServer(access: new PeerAccess([], [SomeoneElse]));
        Assert.Equal(0x1b6u, Permissions(open.Socket));
        Assert.Equal(0x1b6u, Permissions(open.Socket + ".ctl"));
    }

    [SkippableFact]
    public void OwnerOnlySocket_RefusesAnotherUserAtConnect()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var server = new RunningServer();
        var r = OtherUser.Run(OtherUser.IvshmemClient, [server.Socket]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("PermissionError", r.Stderr);
    }

    [SkippableFact]
    public void SocketPath_HoldingAStaleSocketOfAnotherUser_IsRefused_AndLeftThere()
    {
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var zone = new TempZone(16UL << 20);
        string dir = Directory.CreateTempSubdirectory("stargate-socket-").FullName;
        try
        {
            ProcessRunner.RunChecked("chmod", ["0777", dir]);
            string socket = Path.Combine(dir, "theirs.sock");
            Assert.Equal(0, OtherUser.Run(OtherUser.StaleSocket, [socket]).ExitCode);
            var e = Assert.Throws<ZoneException>(() => SocketFile.Listen(socket, 0x180));
            Assert.Contains($"{socket} is a socket of uid 65534", e.Message);
            Assert.True(File.Exists(socket), "another user's socket file was removed");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SocketPath_HoldingARegularFileOrASymlink_IsRefused_AndLeftThere()
    {
        using var zone = new TempZone(16UL << 20);
        string file = zone.Scratch("file");
        File.WriteAllText(file, "keep\n");
        var e = Assert.Throws<ZoneException>(() => SocketFile.Listen(file, 0x180));
        Assert.Contains("is a regular file, not a socket", e.Message);
        Assert.Equal("keep\n", File.ReadAllText(file));

        string link = zone.Scratch("link");
        File.CreateSymbolicLink(link, file);
        e = Assert.Throws<ZoneException>(() => SocketFile.Listen(link, 0x180));
        Assert.Contains("is a symlink, not a socket", e.Message);
        Assert.Equal("keep\n", File.ReadAllText(link));
    }

    [Fact]
    public void SocketPath_HoldingAStaleSocketOfOurOwn_IsReplaced()
    {
        using var zone = new TempZone(16UL << 20);
        string socket = zone.Scratch("sock");
        int stale = UnixSockets.Listen(socket, 1, 0x180);
        Libc.Close(stale); // the file stays, nobody listens: what a killed service leaves
        int listener = SocketFile.Listen(socket, 0x180);
        SocketFile.Close(listener, socket);
    }

    [Fact]
    public void Serve_WithAnUnknownAllowedUserOrGroup_FailsWithOneLine()
    {
        using var zone = new TempZone(16UL << 20);
        var user = StargateProcess.Run("serve", zone.Path, "--socket", zone.Path + ".sock", "--allow-user", "no-such-user-here");
        CliAssert.FailsWithOneLine(user, 2, "--allow-user no-such-user-here: no such user");
        var group = StargateProcess.Run("serve", zone.Path, "--socket", zone.Path + ".sock", "--allow-user", "0", "--allow-group", "no-such-group-here");
        CliAssert.FailsWithOneLine(group, 2, "--allow-group no-such-group-here: no such group");
    }

    [Fact]
    public void Serve_OnASocketPathThatIsARegularFile_FailsWithOneLine_AndKeepsTheFile()
    {
        using var zone = new TempZone(16UL << 20);
        string file = zone.Scratch("sock");
        File.WriteAllText(file, "keep\n");
        var r = StargateProcess.Run("serve", zone.Path, "--socket", file);
        CliAssert.FailsWithOneLine(r, 1, $"{file} exists and is a regular file, not a socket");
        Assert.Equal("keep\n", File.ReadAllText(file));
        Assert.False(File.Exists(zone.Path + ".serve"));
    }

    private static uint Permissions(string path)
    {
        Sys.Check(Libc.Lstat(path, out var status), "lstat", path);
        Assert.Equal(Libc.S_IFSOCK, status.Type);
        return status.Permissions;
    }
}
