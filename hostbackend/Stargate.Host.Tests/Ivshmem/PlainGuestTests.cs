using Stargate.Host.Tests.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>
/// Guests without doorbells (docs/requests.md "Guests without doorbells"): a guest that
/// claims a free slot's area becomes a plain peer, is served by polling, and departs,
/// with the usual clean-up, when its heartbeat stops or it stores its claim back to 0;
/// the server never hands a claimed slot to a QEMU and ignores claims in live slots.
/// </summary>
public class PlainGuestTests
{
    private const ulong Nonce = 0x5eed_0000_0000_0001;

    [Fact]
    public void ClaimingGuest_IsServedByPolling_StaysWhileItsHeartbeatGoes_AndDepartsWithItsLocksAndOrphansWhenItStops()
    {
        using var server = new RunningServer();
        using var guest = ClaimTopSlot(server);
        using var heart = new Heartbeat(guest);
        int top = guest.Slot;
        var row = server.Server.Peers().Single(p => p.Id == top);
        Assert.Equal(("plain", 0), (row.Kind, row.Pid));
        server.Log.WaitFor($"peer {top} joined: a plain guest");

        var root = new NodeRef(SgzAbi.RootIno, server.Opened.Names.StatInode(SgzAbi.RootIno).Generation);
        var file = Made(Call(guest, 0, Req.Create(root, "f", uid: 0)));
        var kept = Made(Call(guest, 2, Req.Create(root, "kept", uid: 0)));
        Assert.Equal(0u, Call(guest, 1, Req.Lock(kept, SgzAbi.LockWrite, 0, 0, owner: 7, pid: 70)).Status);
        var range = new LockRange(SgzAbi.LockKindPosix, SgzAbi.LockWrite, 0, SgzAbi.LockEof);
        Assert.NotNull(server.Server.Requests.HostLock(kept, range, owner: 1, pid: 1));
        guest.SetOpen(0, file, 1);
        Assert.Equal(0u, Call(guest, 2, Req.Unlink(root, "f", uid: 0)).Status);
        Assert.True(server.Opened.Orphans.IsOrphan(file.Ino), "the unlinked file it holds open is kept");

        Thread.Sleep(SgzAbi.ClaimTimeoutMs + 500);
        Assert.Equal(SgzAbi.PeerLive, (int)server.Opened.Peers.Record(top).State);

        heart.Stop();
        IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(top).State == SgzAbi.PeerFree, "the silent guest's slot is freed");
        server.Log.WaitFor($"peer {top} (plain) stopped its heartbeat");
        Assert.DoesNotContain(server.Server.Peers(), p => p.Id == top);
        Assert.False(server.Opened.Orphans.IsOrphan(file.Ino), "the orphan only it held is freed");
        Assert.False(Area(server.Opened, top).ContainsAnyExcept((byte)0), "its area, claim included, is zeroed");
        Assert.Null(server.Server.Requests.HostLock(kept, range, owner: 1, pid: 1));
        Assert.Contains(server.Opened.Names.ReadDirectory("/"), e => e.Name == "kept");
    }

    [Fact]
    public void ClaimStoredBackToZero_IsAnOrderlyDeparture_AndTheGuestCanClaimAgainWithAFreshArea()
    {
        using var server = new RunningServer();
        using var guest = ClaimTopSlot(server);
        using var heart = new Heartbeat(guest);
        int top = guest.Slot;
        Assert.Equal(0u, Call(guest, 3, Req.Nop()).Status);

        Volatile.Write(ref guest.Header.Claim, 0UL);
        IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(top).State == SgzAbi.PeerFree, "the released slot is freed");
        server.Log.WaitFor($"peer {top} (plain) released its claim");
        Assert.Equal(0ul, guest.ReplyRef(3).Done);

        Assert.True(Claim(guest, Nonce + 1));
        IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(top).State == SgzAbi.PeerLive, "the slot is claimed again");
        Assert.Equal(0u, Call(guest, 3, Req.Nop()).Status);
    }

    [Fact]
    public void ClaimWrittenIntoADoorbellGuestsArea_IsIgnored_AndGoesWithThatGuest()
    {
        using var server = new RunningServer();
        using var client = new ProtocolClient(server.Socket, 2);
        using var hostile = new TestGuest(server.Zone.Path, server.Opened.Geometry, client.Id);
        Assert.Equal(SgzAbi.ClaimHost, Volatile.Read(ref hostile.Header.Claim));

        Volatile.Write(ref hostile.Header.Claim, Nonce);
        Thread.Sleep(300);
        Assert.Equal("guest", server.Server.Peers().Single(p => p.Id == client.Id).Kind);
        Assert.DoesNotContain(server.Server.Peers(), p => p.Kind == "plain");

        client.Dispose();
        IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(client.Id).State == SgzAbi.PeerFree, "the doorbell guest's slot is freed");
        Thread.Sleep(300);
        Assert.Equal(0ul, Volatile.Read(ref hostile.Header.Claim));
        Assert.Equal(SgzAbi.PeerFree, (int)server.Opened.Peers.Record(client.Id).State);
    }

    [Fact]
    public void ClaimedSlot_IsNeverHandedToANewQemu_AndAMarkADeadServiceLeftIsDropped()
    {
        using var server = new RunningServer(prepare: zone =>
        {
            using var plain = new TestGuest(zone.Path, zone.Geometry, 1);
            Assert.True(Claim(plain, Nonce));
            using var marked = new TestGuest(zone.Path, zone.Geometry, 2);
            marked.Header.Claim = SgzAbi.ClaimHost;
        });

        using var client = new ProtocolClient(server.Socket, 2);
        Assert.Equal(2, client.Id);
        IvshmemServerTests.Eventually(() => server.Server.Peers().Any(p => p.Id == 1 && p.Kind == "plain"), "the claim in slot 1 joins as a plain peer");
    }

    [Fact]
    public void PlainGuestAPreviousServiceLeftLive_IsAdoptedAndServed_AndALiveSlotWithoutPidOrClaimIsCleanedUp()
    {
        using var server = new RunningServer(prepare: zone =>
        {
            zone.Peers.Set(5, live: true, pid: 0);
            zone.Peers.Set(6, live: true, pid: 0);
            using var plain = new TestGuest(zone.Path, zone.Geometry, 5);
            Assert.True(Claim(plain, Nonce));
            plain.Send(0, Req.Nop());
        });

        server.Log.WaitFor("peer 5 adopted: a plain guest");
        Assert.Equal(SgzAbi.PeerFree, (int)server.Opened.Peers.Record(6).State);
        using var guest = new TestGuest(server.Zone.Path, server.Opened.Geometry, 5);
        IvshmemServerTests.Eventually(() => guest.IsDone(0, 1), "the adopted plain guest's pending request is answered");
        Assert.Equal("plain", server.Server.Peers().Single(p => p.Id == 5).Kind);

        IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(5).State == SgzAbi.PeerFree, "without a heartbeat it departs");
    }

    /// <summary>A guest that claims the top slot, as stargatefs does, once the server has made it a live peer.</summary>
    private static TestGuest ClaimTopSlot(RunningServer server)
    {
        int top = (int)server.Opened.Geometry.MaxPeers - 1;
        var guest = new TestGuest(server.Zone.Path, server.Opened.Geometry, top);
        Assert.True(Claim(guest, Nonce));
        IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(top).State == SgzAbi.PeerLive, "the claimed slot is live");
        return guest;
    }

    private static NodeRef Made(SgzReply reply)
    {
        Assert.Equal(0u, reply.Status);
        return new NodeRef(reply.Ino, reply.Generation);
    }

    private static bool Claim(TestGuest guest, ulong nonce) => Interlocked.CompareExchange(ref guest.Header.Claim, nonce, 0) == 0;

    /// <summary>Sends a request and waits for its reply: no doorbell, the server finds it by polling.</summary>
    private static SgzReply Call(TestGuest guest, int tag, SgzRequest request)
    {
        ulong seq = guest.Send(tag, request);
        IvshmemServerTests.Eventually(() => guest.IsDone(tag, seq), $"request {seq} is answered by polling");
        return guest.Reply(tag, seq);
    }

    private static Span<byte> Area(Zone zone, int slot) =>
        zone.Memory.Span(zone.Geometry.RingAreaOffset(slot), zone.Geometry.RingBytes);

    /// <summary>Bumps a guest's heartbeat every 50 ms, as stargatefs does, until stopped (joined before the guest's mapping goes).</summary>
    private sealed class Heartbeat : IDisposable
    {
        private readonly Thread _thread;
        private readonly ManualResetEventSlim _stop = new();

        public Heartbeat(TestGuest guest)
        {
            _thread = new Thread(() =>
            {
                do
                {
                    Interlocked.Increment(ref guest.Header.Heartbeat);
                }
                while (!_stop.Wait(50));
            }) { IsBackground = true, Name = "heartbeat" };
            _thread.Start();
        }

        public void Stop()
        {
            _stop.Set();
            _thread.Join();
        }

        public void Dispose()
        {
            Stop();
            _stop.Dispose();
        }
    }
}
