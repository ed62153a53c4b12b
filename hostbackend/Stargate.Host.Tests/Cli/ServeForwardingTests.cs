using Stargate.Host.Zones;
using Stargate.Interop.Native;
using Stargate.Testing;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// While `stargate serve` holds a zone, the changing commands are forwarded to it (ZONE.serve
/// names its control socket) and run there by the same handlers: the user sees the same
/// results, output, messages and exit codes as without serve.
/// </summary>
public class ServeForwardingTests
{
    [Fact]
    public void ChangingCommands_WhileServeRuns_ChangeTheZone_AsReadersSeeAtOnce()
    {
        using var zone = new TempZone(16UL << 20);
        byte[] data = ZoneContent.Bytes(10_000, 3);
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, data);
        using var serve = BackgroundStargate.Serve(zone);

        CliAssert.Succeeds(StargateProcess.Run("mkdir", "-p", zone.Path, "/a/b"));
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/a/b/f"));
        Assert.Equal(data, ZoneContent.Read(zone.Path, "/a/b/f"));
        CliAssert.Succeeds(StargateProcess.Run("mv", zone.Path, "/a/b/f", "/a/g"));
        CliAssert.Succeeds(StargateProcess.Run("truncate", zone.Path, "/a/g", "--size", "100"));
        Assert.Equal(data[..100], ZoneContent.Read(zone.Path, "/a/g"));
        Assert.Equal(["b", "g"], CliAssert.Lines(CliAssert.Succeeds(StargateProcess.Run("ls", zone.Path, "/a"))));
        CliAssert.Succeeds(StargateProcess.Run("rm", zone.Path, "/a/g"));
        CliAssert.Succeeds(StargateProcess.Run("rmdir", zone.Path, "/a/b"));
        Assert.Empty(ZoneContent.List(zone.Path, "/a"));
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/a/again"));
        CliAssert.Succeeds(StargateProcess.Run("rm", "--recursive", zone.Path, "/a"));
        Assert.Empty(ZoneContent.List(zone.Path, "/"));
    }

    [Theory]
    [InlineData("rm", "/missing")]
    [InlineData("rmdir", "/f")]
    [InlineData("mkdir", "/f")]
    [InlineData("mv", "/f", "/nowhere/g")]
    [InlineData("truncate", "/d", "--size", "1")]
    [InlineData("put", "LOCAL", "/d/x/y")]
    public void FailingCommand_WhileServeRuns_ExitsAndSaysExactlyWhatItDoesWithoutServe(string command, params string[] rest)
    {
        using var zone = new TempZone(16UL << 20);
        string local = zone.Scratch("local");
        File.WriteAllText(local, "x");
        ZoneContent.Write(zone, "/f", [1, 2, 3]);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/d");
        }

        string[] args = [command, zone.Path, .. rest.Select(a => a == "LOCAL" ? local : a)];
        var direct = StargateProcess.Run(args);
        StargateProcess.Result forwarded;
        using (BackgroundStargate.Serve(zone))
        {
            forwarded = StargateProcess.Run(args);
        }

        CliAssert.FailsWithOneLine(direct, 1);
        Assert.Equal(direct, forwarded);
    }

    [Fact]
    public void Put_WithRelativePaths_WhileServeRuns_ReadsTheFileFromTheCallersDirectory()
    {
        using var zone = new TempZone(16UL << 20);
        string dir = CallersDirectory(zone, "from the caller's directory\n");
        using var serve = BackgroundStargate.Serve(zone);

        var r = PutFrom(dir, zone, "note.txt");
        Directory.Delete(dir, recursive: true);

        Assert.True(r.ExitCode == 0 && r.Stderr.Length == 0, r.ToString());
        Assert.Equal("from the caller's directory\n"u8.ToArray(), ZoneContent.Read(zone.Path, "/note.txt"));
    }

    [Fact]
    public void FailingPut_WithRelativePaths_WhileServeRuns_NamesThemAsTyped_AsWithoutServe()
    {
        using var zone = new TempZone(16UL << 20);
        string dir = CallersDirectory(zone, "x");

        var direct = PutFrom(dir, zone, "note.txt", "/no/such/dir/note.txt");
        ProcessRunner.Result forwarded;
        using (BackgroundStargate.Serve(zone))
        {
            forwarded = PutFrom(dir, zone, "note.txt", "/no/such/dir/note.txt");
        }

        Directory.Delete(dir, recursive: true);
        Assert.Equal(1, direct.ExitCode);
        Assert.Equal((direct.ExitCode, direct.Stdout, direct.Stderr), (forwarded.ExitCode, forwarded.Stdout, forwarded.Stderr));
    }

    [Fact]
    public void Serve_PublishesItsControlSocketBesideTheZone_AndRemovesItWhenItStops()
    {
        using var zone = new TempZone(16UL << 20);
        var serve = BackgroundStargate.Serve(zone);
        using (serve)
        {
            Assert.Equal(zone.Path + ".sock.ctl\n", File.ReadAllText(zone.Path + ".serve"));
            serve.Terminate();
            Assert.Equal(0, serve.WaitForExit());
        }

        Assert.False(File.Exists(zone.Path + ".serve"), "serve left ZONE.serve behind");
    }

    [Fact]
    public void Writer_WhenZoneServeNamesADeadSocket_FailsAsBusy_NamingTheHolder()
    {
        using var zone = new TempZone(16UL << 20);
        File.WriteAllText(zone.Scratch("serve"), zone.Path + ".gone.ctl\n");
        StargateProcess.Result r;
        using (Zone.Open(zone.Path, ZoneAccess.ReadWrite, "stargate serve"))
        {
            r = StargateProcess.Run("mkdir", zone.Path, "/d");
        }

        CliAssert.FailsWithOneLine(r, 1, zone.Path, $"pid {Environment.ProcessId}", "stargate serve");
    }

    [SkippableFact]
    public void Writer_WhenZoneServeNamesAnotherUsersSocket_SendsItNothing_AndFailsAsBusy()
    {
        Skip.If(Libc.Getuid() != 0 || !File.Exists("/usr/bin/setpriv") || !File.Exists("/usr/bin/python3"), "needs root, setpriv and /usr/bin/python3 to listen as another user");
        using var zone = new TempZone(16UL << 20);
        string dir = Directory.CreateTempSubdirectory("stargate-nobody-").FullName;
        ProcessRunner.RunChecked("chmod", ["0777", dir]); // nobody binds its socket here
        string socket = Path.Combine(dir, "fake.ctl");
        string heard = Path.Combine(dir, "heard");
        File.WriteAllText(zone.Scratch("serve"), socket + "\n");
        // Listens as nobody, and writes down whatever a client sends in its first second.
        string listener = $"import socket\ns=socket.socket(socket.AF_UNIX)\ns.bind('{socket}')\ns.listen(4)\nprint('listening',flush=True)\n"
            + $"c,_=s.accept()\nc.settimeout(1)\ntry:\n  d=c.recv(65536)\nexcept Exception:\n  d=b''\nopen('{heard}','wb').write(d)\n";
        using var fake = new System.Diagnostics.Process
        {
            StartInfo = new("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", listener]) { RedirectStandardOutput = true },
        };
        try
        {
            fake.Start();
            Assert.Equal("listening", fake.StandardOutput.ReadLine());
            StargateProcess.Result r;
            using (Zone.Open(zone.Path, ZoneAccess.ReadWrite, "stargate serve"))
            {
                r = StargateProcess.Run("mkdir", zone.Path, "/d");
            }

            Assert.True(fake.WaitForExit(10_000), "the fake listener ended");
            Assert.Equal(string.Empty, File.ReadAllText(heard));
            CliAssert.FailsWithOneLine(r, 1, zone.Path, "stargate serve");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ReadingCommands_WhileServeRuns_StillReadTheZoneThemselves()
    {
        using var zone = new TempZone(16UL << 20);
        ZoneContent.Write(zone, "/f", "hello\n"u8.ToArray());
        using var serve = BackgroundStargate.Serve(zone);

        Assert.Equal("hello\n", CliAssert.Succeeds(StargateProcess.Run("cat", zone.Path, "/f")).Stdout);
        Assert.Contains("Size: 6", CliAssert.Succeeds(StargateProcess.Run("stat", zone.Path, "/f")).Stdout, StringComparison.Ordinal);
    }

    /// <summary>A directory beside the zone holding note.txt: the caller's working directory.</summary>
    private static string CallersDirectory(TempZone zone, string note)
    {
        string dir = zone.Scratch("cwd");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "note.txt"), note);
        return dir;
    }

    /// <summary>`stargate put` run in <paramref name="dir"/>, naming the zone relative to it.</summary>
    private static ProcessRunner.Result PutFrom(string dir, TempZone zone, params string[] rest) =>
        ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "stargate.dll"), "put", Path.GetRelativePath(dir, zone.Path), .. rest], workingDirectory: dir);
}
