using Stargate.Host.Ivshmem;
using Stargate.Host.Service;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>
/// The server speaking QEMU's protocol over a real socket to clients that read it as
/// hw/misc/ivshmem.c does. (Guests in real QEMU: integration-tests/.)
/// </summary>
public class IvshmemServerTests
{
    [Fact]
    public void Connect_GivesVersionIdTheZoneAndEveryPeersEventfds()
    {
        using var server = new RunningServer(vectors: 3);
        using var a = new ProtocolClient(server.Socket, 3);
        Assert.Equal(1, a.Id);
        Assert.Equal([0, 1], a.PeerFds.Keys.Order());
        Assert.All(a.PeerFds.Values, fds => Assert.Equal(3, fds.Count));

        // The memory fd is this guest's own private area (the zone's files are QEMU's own plain devices):
        // ZONE.area.1, 0600, its header naming the zone, the slot and the socket's policy.
        using var area = new Microsoft.Win32.SafeHandles.SafeFileHandle(a.MemoryFd, ownsHandle: false);
        Assert.Equal(SgzAbi.AreaSize, RandomAccess.GetLength(area));
        string path = GuestAreas.PathOf(server.Zone.Path, 1);
        Assert.Equal(0, Stargate.Interop.Native.Libc.Stat(path, out var status));
        Assert.Equal(0x180u, status.Mode & 0xfff);
        var header = new byte[SgzAbi.AreaHeaderSize];
        RandomAccess.Read(area, header, 0);
        Assert.Equal(SgzAbi.AreaMagic, BitConverter.ToUInt64(header));
        Assert.Equal((ushort)SgzAbi.VersionMajor, BitConverter.ToUInt16(header, 8));
        Assert.Equal(1u, BitConverter.ToUInt32(header, 12));
        var uuid = new byte[16];
        using (var z = File.OpenHandle(server.Zone.Path))
        {
            RandomAccess.Read(z, uuid, 24); // sgz_superblock.uuid
        }

        Assert.Equal(uuid, header[16..32]);
        Assert.Equal(0u, BitConverter.ToUInt32(header, 32)); // read-write, no root squash

        // A second guest gets another file: neither maps the other's area.
        using var b = new ProtocolClient(server.Socket, 3);
        using var other = new Microsoft.Win32.SafeHandles.SafeFileHandle(b.MemoryFd, ownsHandle: false);
        RandomAccess.Read(other, header, 0);
        Assert.Equal(2u, BitConverter.ToUInt32(header, 12));
        Assert.True(File.Exists(GuestAreas.PathOf(server.Zone.Path, 2)));
    }

    [Fact]
    public void SecondPeer_LearnsTheFirst_AndTheFirstIsToldOfIt()
    {
        using var server = new RunningServer();
        using var a = new ProtocolClient(server.Socket, 2);
        using var b = new ProtocolClient(server.Socket, 2);
        Assert.Equal(2, b.Id);
        Assert.Equal([0, 1, 2], b.PeerFds.Keys.Order());
        var first = a.ReadNotice();
        var second = a.ReadNotice();
        Assert.Equal(2, first.Peer);
        Assert.Equal(2, second.Peer);
        Assert.True(first.Fd >= 0 && second.Fd >= 0, "a join notice carries one eventfd per vector");
        Assert.Equal(2, a.PeerFds[2].Count);
    }

    [Fact]
    public void Doorbells_TravelGuestToHost_GuestToGuest_AndHostToGuest()
    {
        using var server = new RunningServer();
        using var a = new ProtocolClient(server.Socket, 2);
        using var b = new ProtocolClient(server.Socket, 2);
        a.ReadNotice();
        a.ReadNotice();

        a.Ring(ServerLimits.HostId, 1);
        Eventually(() => server.Server.Peers()[0].Doorbells[1] == 1, "the host counts a guest's doorbell");

        a.Ring(b.Id, 0);
        Eventually(() => b.Rung(0) == 1, "guest B is rung by guest A");

        var r = StargateProcess.Run("ring", "--socket", server.Socket, "--peer", "1", "--vector", "1");
        Assert.True(r.ExitCode == 0, r.ToString());
        Eventually(() => a.Rung(1) == 1, "guest A is rung by the host");
    }

    [Fact]
    public void PeerThatLeaves_IsAnnouncedToTheOthers_LoggedAndFreedInTheZone()
    {
        using var server = new RunningServer();
        using var a = new ProtocolClient(server.Socket, 2);
        var b = new ProtocolClient(server.Socket, 2);
        a.ReadNotice();
        a.ReadNotice();
        Eventually(() => server.Opened.Peers.Record(2).State == SgzAbi.PeerLive, "peer 2 is live in the zone's peer table");
        Assert.Equal((ulong)Environment.ProcessId, server.Opened.Peers.Record(2).Pid);

        b.Dispose();
        Assert.Equal((2, -1), a.ReadNotice());
        server.Log.WaitFor("peer 2 (pid");
        Eventually(() => server.Opened.Peers.Record(2).State == SgzAbi.PeerFree, "peer 2's slot is freed");
        Assert.DoesNotContain(2, a.PeerFds.Keys);
    }

    [Fact]
    public void ClientSendingGarbage_IsDropped_AndTheOthersCarryOn()
    {
        using var server = new RunningServer();
        using var a = new ProtocolClient(server.Socket, 2);
        using var bad = new ProtocolClient(server.Socket, 2);
        a.ReadNotice();
        a.ReadNotice();
        unsafe
        {
            byte* junk = stackalloc byte[5];
            Libc.Write(bad.Fd, junk, 5);
        }

        Assert.True(bad.ClosedByServer(), "the server closes a client that sends anything");
        Assert.Equal((bad.Id, -1), a.ReadNotice());
        server.Log.WaitFor("which this protocol never carries");
        a.Ring(ServerLimits.HostId, 0);
        Eventually(() => server.Server.Peers()[0].Doorbells[0] == 1, "the service still serves the other guest");
        using var c = new ProtocolClient(server.Socket, 2);
        Assert.Equal(bad.Id, c.Id);
    }

    [Fact]
    public void SilentControlClients_CannotLockOthersOut()
    {
        using var server = new RunningServer();
        var silent = Enumerable.Range(0, ServerLimits.MaxControlConnections + 4).Select(_ => UnixSockets.Connect(server.Socket + ".ctl")).ToList();
        try
        {
            // Each is closed once its deadline passes; then peers answers again.
            var deadline = DateTime.UtcNow + ServerLimits.ControlDeadline + TimeSpan.FromSeconds(5);
            StargateProcess.Result r;
            do
            {
                r = StargateProcess.Run("peers", "--socket", server.Socket, "--json");
            }
            while (r.ExitCode != 0 && DateTime.UtcNow < deadline);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.All(silent, fd => Assert.Equal(0, UnixSockets.ReceiveNow(fd, new byte[1])));
        }
        finally
        {
            silent.ForEach(fd => Libc.Close(fd));
        }
    }

    [Fact]
    public void ClientThatNeverReads_IsDroppedWhenItsBufferFills_AndNeverStallsTheService()
    {
        using var server = new RunningServer(vectors: 8);
        int deaf = UnixSockets.Connect(server.Socket); // id 1: takes its set-up, then reads nothing
        try
        {
            // Every join and leave sends the deaf client a notice; churn until its buffer is full.
            for (int i = 0; i < 400 && server.Log.Lines.All(l => !l.Contains("peer 1 (pid", StringComparison.Ordinal)); i++)
            {
                using var churn = new ProtocolClient(server.Socket, 8);
            }

            server.Log.WaitFor("peer 1 (pid");
            using var fresh = new ProtocolClient(server.Socket, 8);
            fresh.Ring(ServerLimits.HostId, 0);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (server.Server.Peers()[0].Doorbells[0] == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the service stalled");
                Thread.Sleep(10);
            }
        }
        finally
        {
            Libc.Close(deaf);
        }
    }

    [Fact]
    public void WhenEveryIdIsTaken_ANewClientIsRefusedAndTheOperatorTold()
    {
        using var server = new RunningServer(maxPeers: 1);
        using var a = new ProtocolClient(server.Socket, 2);
        int late = UnixSockets.Connect(server.Socket);
        try
        {
            Assert.False(UnixSockets.ReceiveMessage(late, out _, out _), "a refused client gets nothing");
            server.Log.WaitFor("all 1 guest ids are taken");
        }
        finally
        {
            Libc.Close(late);
        }
    }

    [Fact]
    public void SecondServer_OnTheSameSocket_IsRefused_AndAStaleSocketFileIsReplaced()
    {
        using var server = new RunningServer();
        var e = Assert.Throws<ZoneException>(() => new StargateService(server.Opened, server.Server.Options, new ListLogger()));
        Assert.Contains("another server is listening", e.Message);
        Assert.True(File.Exists(server.Socket), "the refused service leaves the running one's socket file alone");

        // The refused service found the running one by connecting to it: that probe took id 1
        // and hung up. Once the running service has let it go, id 1 is the next guest's again.
        server.Log.WaitFor("peer 1 (pid");
        Eventually(() => server.Opened.Peers.Record(1).State == SgzAbi.PeerFree, "the probe's slot is freed");
        using (var a = new ProtocolClient(server.Socket, 2))
        {
            Assert.Equal(1, a.Id);
        }

        // A socket file nobody listens on, of this user: what a killed service leaves.
        string stale = server.Zone.Scratch("stale");
        Libc.Close(UnixSockets.Listen(stale, 1, 0x180));
        using var second = new StargateService(server.Opened, server.Server.Options with { SocketPath = stale, ControlPath = stale + ".ctl" }, new ListLogger());
        Assert.True(File.Exists(stale));
    }

    [Fact]
    public void Control_AnswersPeersAndRefusesNonsense()
    {
        using var server = new RunningServer();
        using var a = new ProtocolClient(server.Socket, 2);
        var peers = StargateProcess.Run("peers", "--socket", server.Socket, "--json");
        Assert.True(peers.ExitCode == 0, peers.ToString());
        var rows = System.Text.Json.JsonSerializer.Deserialize<PeerStatus[]>(peers.Stdout, PeerStatus.Json)!;
        Assert.Equal([0, 1], rows.Select(p => p.Id));
        Assert.Equal(Environment.ProcessId, rows[1].Pid);
        // Nothing freed yet: the host has posted epoch 0, and no guest is waited for.
        Assert.Equal([0UL, null], rows.Select(p => p.GraceEpoch));
        var table = StargateProcess.Run("peers", "--socket", server.Socket);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("worst reply  grace epoch  doorbells", table.Stdout);
        Assert.Equal(3, table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var bad = StargateProcess.Run("ring", "--socket", server.Socket, "--peer", "9", "--vector", "0");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("no guest has id 9", bad.Stderr);
        var wrongVector = StargateProcess.Run("ring", "--socket", server.Socket, "--peer", "1", "--vector", "7");
        Assert.Contains("vector 7 is outside 0..1", wrongVector.Stderr);
        var nobody = StargateProcess.Run("peers", "--socket", server.Zone.Scratch("nobody"));
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no stargate serve answers there", nobody.Stderr);
    }

    internal static void Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            Thread.Sleep(10);
        }
    }
}
