using System.Text;
using Stargate.Host.Tests.Ivshmem;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// ZoneFileMapping from a process that is not the zone's writer, while `stargate serve` holds
/// it: the mapping asks serve for the file's layout and for space, follows every change of the
/// file's pages made elsewhere (CLI commands, another process's mapping), and serve keeps the
/// pages a change frees out of use until the mapping has let go of them. Also the session's
/// lines themselves, spoken by hand on the control socket.
/// </summary>
public class ServiceMappingTests
{
    private const int Page = SgzAbi.PageSize;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public unsafe void Map_ThroughServe_ReadsAndWritesTheFile_AndFollowsChangesMadeElsewhere()
    {
        using var zone = new TempZone(64UL << 20);
        var data = new byte[(3 << 20) + 100];
        Random.Shared.NextBytes(data);
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, data);
        using var serve = BackgroundStargate.Serve(zone);
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/f"));

        using var z = zone.Open(ZoneAccess.ReadOnly);
        using var map = ZoneFileMapping.Map(z, "/f", writable: true, capacity: 16 << 20);
        Assert.True(map.Span(0, data.Length).SequenceEqual(data), "the mapping reads the file");
        "through the mapping"u8.CopyTo(map.Span((1 << 20) + 3, 19));
        Assert.Equal("through the mapping", Encoding.ASCII.GetString(ZoneContent.Read(zone.Path, "/f"), (1 << 20) + 3, 19));

        // Growth and allocation go through serve; the CLI sees them.
        map.Grow(5 << 20);
        "tail"u8.CopyTo(map.Span((5 << 20) - 4, 4));
        Assert.Contains("Size: 5242880", CliAssert.Succeeds(StargateProcess.Run("stat", zone.Path, "/f")).Stdout, StringComparison.Ordinal);
        Assert.Equal(ZoneError.InvalidArgument, Assert.Throws<ZoneException>(() => map.Allocate(5 << 20, Page)).Error);
        Assert.Equal(ZoneError.FileTooLarge, Assert.Throws<ZoneException>(() => map.Grow(17 << 20)).Error);

        // Another process (here: another read-only opening, its own session) grows the file
        // and writes: this mapping maps the new pages as soon as serve tells it.
        using (var z2 = zone.Open(ZoneAccess.ReadOnly))
        using (var other = ZoneFileMapping.Map(z2, "/f", writable: true, capacity: 16 << 20))
        {
            other.Grow(9 << 20);
            "from the other"u8.CopyTo(other.Span((8 << 20) + 1, 14));
        }

        byte* at = (byte*)map.Address;
        IvshmemServerTests.Eventually(() => new ReadOnlySpan<byte>(at + (8 << 20) + 1, 14).SequenceEqual("from the other"u8), "the other process's new pages are mapped here");

        // A truncate by the CLI: the freed range reads zeros here, and whatever reuses the pages
        // never shows through.
        CliAssert.Succeeds(StargateProcess.Run("truncate", zone.Path, "/f", "-s", Page.ToString()));
        IvshmemServerTests.Eventually(() => new ReadOnlySpan<byte>(at + Page, (9 << 20) - Page).IndexOfAnyExcept((byte)0) < 0, "the truncated range reads zeros");
        File.WriteAllBytes(local, Enumerable.Repeat((byte)0xc3, 24 << 20).ToArray());
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/g"));
        Assert.Equal(-1, new ReadOnlySpan<byte>(at + Page, (9 << 20) - Page).IndexOfAnyExcept((byte)0));
        Assert.True(new ReadOnlySpan<byte>(at, 100).SequenceEqual(data.AsSpan(0, 100)), "the page that stays is still the file's");

        // serve stops: nothing keeps the pages for this process any more.
        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());
        IvshmemServerTests.Eventually(() => at[0] == 0 && at[1] == 0 && at[2] == 0 && at[3] == 0, "every page reads zeros once serve is gone");
        Assert.Throws<IOException>(() => map.Grow(6 << 20));
    }

    [Fact]
    public void Map_OfAReadOnlyZoneWithoutServe_SaysWhy()
    {
        using var zone = new TempZone(16UL << 20);
        using (var writer = zone.Open())
        {
            writer.Files.Write(writer.Names.CreateFile("/f"), 0, "x"u8);
        }

        using var z = zone.Open(ZoneAccess.ReadOnly);
        var e = Assert.Throws<ZoneException>(() => ZoneFileMapping.Map(z, "/f", writable: false));
        Assert.Equal(ZoneError.ReadOnly, e.Error);
        Assert.Contains("no stargate serve answers", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_FreedPagesStayOutOfUse_UntilTheClientAcknowledges()
    {
        using var zone = new TempZone(32UL << 20);
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, Enumerable.Repeat((byte)0x5a, 8 << 20).ToArray());
        using var serve = BackgroundStargate.Serve(zone);
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/f"));
        var info = Stat(zone, "/f");

        using var session = RawSession.Start(zone);
        string opened = session.Ask($"open {info.Ino} {info.Generation}");
        Assert.StartsWith("= 1 ", opened, StringComparison.Ordinal);
        var layout = FileLayout.Parse(opened[4..], zone.Size);
        Assert.Equal(8UL << 20, layout.Size);

        CliAssert.Succeeds(StargateProcess.Run("truncate", zone.Path, "/f", "-s", "0"));
        Assert.Equal("layout 1 " + $"{info.Ino} {info.Generation} 0", session.Next());
        string epoch = session.Next() ?? throw new IOException("serve closed the session");
        Assert.StartsWith("epoch ", epoch, StringComparison.Ordinal);
        Assert.Contains("pending", CliAssert.Succeeds(StargateProcess.Run("zone", "info", zone.Path)).Stdout, StringComparison.Ordinal);

        // Without the acknowledgement the 8 MiB stay the old file's: a 12 MiB file goes elsewhere,
        // and a zone that needs them is full.
        File.WriteAllBytes(local, Enumerable.Repeat((byte)0xc3, 12 << 20).ToArray());
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/g"));
        using (var dataFile = File.OpenHandle(zone.DataPath))
        {
            foreach (var run in layout.Runs)
            {
                var bytes = new byte[run.Length];
                RandomAccess.Read(dataFile, bytes, (long)run.DataOffset);
                Assert.Equal(-1, bytes.AsSpan().IndexOfAnyExcept((byte)0x5a));
            }
        }

        session.Send($"ack {epoch[6..]}");
        IvshmemServerTests.Eventually(() => !CliAssert.Succeeds(StargateProcess.Run("zone", "info", zone.Path)).Stdout.Contains("pending", StringComparison.Ordinal), "the acknowledged pages are freed");
    }

    [Fact]
    public void Session_BadLines_AreRefusedOrEndTheSession()
    {
        using var zone = new TempZone(16UL << 20);
        using var serve = BackgroundStargate.Serve(zone);
        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "/d"));
        var dir = Stat(zone, "/d");

        using (var session = RawSession.Start(zone))
        {
            Assert.StartsWith("! IsDirectory ", session.Ask($"open {dir.Ino} {dir.Generation}"), StringComparison.Ordinal);
            Assert.StartsWith("! Stale ", session.Ask($"open {dir.Ino} {dir.Generation + 1}"), StringComparison.Ordinal);
            Assert.StartsWith("! InvalidArgument ", session.Ask("grow 7 4096"), StringComparison.Ordinal);
            session.Send("ack 999999");
            Assert.Null(session.Next());
        }

        using (var session = RawSession.Start(zone))
        {
            session.Send("open one two");
            Assert.Null(session.Next());
        }

        // A generation past 32 bits is garbage, not the generation it wraps to.
        using (var session = RawSession.Start(zone))
        {
            session.Send($"open {dir.Ino} {dir.Generation + (1UL << 32)}");
            Assert.Null(session.Next());
        }

        // serve itself is unharmed.
        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "/e"));
        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());
    }

    private static (ulong Ino, uint Generation) Stat(TempZone zone, string path)
    {
        using var z = zone.Open(ZoneAccess.ReadOnly);
        ulong ino = z.Names.Resolve(path);
        return (ino, z.Names.StatInode(ino).Generation);
    }

    /// <summary>A mapping session spoken line by line on serve's control socket.</summary>
    private sealed class RawSession : IDisposable
    {
        private readonly int _socket;
        private readonly StreamReader _reader;

        private RawSession(int socket)
        {
            _socket = socket;
            _reader = new StreamReader(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(socket, ownsHandle: false), FileAccess.Read, 1), Encoding.UTF8);
        }

        public static RawSession Start(TempZone zone)
        {
            var session = new RawSession(UnixSockets.Connect(zone.Scratch("sock.ctl")));
            Assert.Equal("ok", session.Ask("map"));
            return session;
        }

        public void Send(string line) => UnixSockets.SendAll(_socket, Encoding.UTF8.GetBytes(line + "\n"));

        public string Ask(string line)
        {
            Send(line);
            return Next() ?? throw new IOException($"serve closed the session after '{line}'");
        }

        /// <summary>The next line, or null once serve closed the connection (within 10 s).</summary>
        public string? Next()
        {
            var line = _reader.ReadLineAsync();
            Assert.True(line.Wait(Soon), "serve sent nothing");
            return line.Result;
        }

        public void Dispose()
        {
            _reader.Dispose();
            Libc.Close(_socket);
        }
    }
}
