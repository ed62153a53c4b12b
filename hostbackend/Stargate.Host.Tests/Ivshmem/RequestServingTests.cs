using Stargate.Host.Ivshmem;
using Stargate.Host.Tests.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>The server loop serving requests of clients that speak QEMU's protocol, through their doorbells.</summary>
public class RequestServingTests
{
    [Fact]
    public void DoorbellToTheHost_GetsTheRequestServed_AndTheGuestsVectorZeroRung()
    {
        using var server = new RunningServer();
        using var client = new ProtocolClient(server.Socket, 2);
        using var guest = new TestGuest(server.Zone.Path, server.Opened.Geometry, client.Id);
        server.Opened.Names.MakeDirectory("/d", 0x1ff);
        var dir = new NodeRef(server.Opened.Names.Stat("/d").Ino, server.Opened.Names.Stat("/d").Generation);

        ulong seq = guest.Send(0, Req.Create(dir, "f"));
        client.Ring(ServerLimits.HostId, 0);
        IvshmemServerTests.Eventually(() => guest.IsDone(0, seq), "the request is answered");
        Assert.Equal(0u, guest.Reply(0, seq).Status);
        Assert.Equal(guest.Reply(0, seq).Ino, server.Opened.Names.Stat("/d/f").Ino);
        ulong rung = 0;
        IvshmemServerTests.Eventually(() => (rung += client.Rung(0)) > 0, "the guest's vector 0 is rung");
    }

    [Fact]
    public void NewGuest_StartsWithAZeroArea_NotAStaleRequestSomeoneLeftInIt()
    {
        using var server = new RunningServer(prepare: zone =>
        {
            using var writer = new TestGuest(zone.Path, zone.Geometry, 1);
            writer.Send(0, Req.Create(new NodeRef(SgzAbi.RootIno, zone.Names.StatInode(SgzAbi.RootIno).Generation), "stale", uid: 0));
        });
        using var client = new ProtocolClient(server.Socket, 2);
        using var guest = new TestGuest(server.Zone.Path, server.Opened.Geometry, client.Id);
        Assert.Equal(1, client.Id);
        server.Server.Requests.ProcessPending();
        Assert.Equal(0ul, guest.Request(0).Seq);
        Assert.Empty(server.Opened.Names.ReadDirectory("/"));
    }

    [Fact]
    public void GuestThatLeaves_LosesItsLocksAndArea_AndTheOthersAreRung()
    {
        using var server = new RunningServer();
        using var a = new ProtocolClient(server.Socket, 2);
        var b = new ProtocolClient(server.Socket, 2);
        using var guestA = new TestGuest(server.Zone.Path, server.Opened.Geometry, a.Id);
        using var guestB = new TestGuest(server.Zone.Path, server.Opened.Geometry, b.Id);
        ulong ino = server.Opened.Names.CreateFile("/f");
        var file = new NodeRef(ino, server.Opened.Names.StatInode(ino).Generation);

        ulong held = guestB.Send(1, Req.Lock(file, SgzAbi.LockWrite, 0, 0, owner: 7, pid: 70));
        b.Ring(ServerLimits.HostId, 0);
        IvshmemServerTests.Eventually(() => guestB.IsDone(1, held), "b's lock is answered");
        Assert.Equal(0u, guestB.Reply(1, held).Status);
        a.Rung(0);

        b.Dispose();
        IvshmemServerTests.Eventually(() => server.Opened.Peers.Record(2).State == SgzAbi.PeerFree, "b's slot is freed");
        ulong rung = 0;
        IvshmemServerTests.Eventually(() => (rung += a.Rung(0)) > 0, "a is rung when b leaves");
        Assert.False(File.Exists(GuestAreas.PathOf(server.Zone.Path, 2)), "b's private area is removed");
        Assert.Equal(0ul, guestB.ReplyRef(1).Done);

        ulong mine = guestA.Send(0, Req.Lock(file, SgzAbi.LockWrite, 0, 0, owner: 1, pid: 10));
        a.Ring(ServerLimits.HostId, 0);
        IvshmemServerTests.Eventually(() => guestA.IsDone(0, mine), "a's lock is answered");
        Assert.Equal(0u, guestA.Reply(0, mine).Status);
    }

    [Fact]
    public void GuestsOfAReadOnlySocket_GetEROFS_WhileThoseOfTheReadWriteSocket_Change_AndPeersShowEachSocketsPolicy()
    {
        using var server = new RunningServer(moreSockets: "ro.sock,ro,root_squash");
        string readOnly = server.Zone.Scratch("ro.sock");
        using var writerClient = new ProtocolClient(server.Socket, 2);
        using var readerClient = new ProtocolClient(readOnly, 2);
        using var writer = new TestGuest(server.Zone.Path, server.Opened.Geometry, writerClient.Id);
        using var reader = new TestGuest(server.Zone.Path, server.Opened.Geometry, readerClient.Id);
        var root = new NodeRef(SgzAbi.RootIno, server.Opened.Names.StatInode(SgzAbi.RootIno).Generation);

        ulong refused = reader.Send(0, Req.Create(root, "r", uid: 0));
        readerClient.Ring(ServerLimits.HostId, 0);
        IvshmemServerTests.Eventually(() => reader.IsDone(0, refused), "the read-only guest's create is answered");
        Assert.Equal((uint)SgzAbi.StatusErofs, reader.Reply(0, refused).Status);
        ulong made = writer.Send(0, Req.Create(root, "w", uid: 0));
        writerClient.Ring(ServerLimits.HostId, 0);
        IvshmemServerTests.Eventually(() => writer.IsDone(0, made), "the read-write guest's create is answered");
        Assert.Equal(0u, writer.Reply(0, made).Status);
        Assert.Equal(["w"], server.Opened.Names.ReadDirectory("/").Select(e => e.Name));

        var peers = server.Server.Peers();
        Assert.Equal((server.Socket, "rw"), peers.Where(p => p.Id == writerClient.Id).Select(p => (p.Socket, p.Policy)).Single());
        Assert.Equal((readOnly, "ro,root_squash"), peers.Where(p => p.Id == readerClient.Id).Select(p => (p.Socket, p.Policy)).Single());
    }
}
