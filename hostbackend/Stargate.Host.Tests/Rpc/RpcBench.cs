using Stargate.Host.Fsck;
using Stargate.Host.Rpc;
using Stargate.Host.Tests.Ivshmem;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// A formatted zone in /dev/shm with a RequestServer on it, driven directly (no
/// QEMU, no loop): a test writes requests through <see cref="TestGuest"/>s and
/// calls <see cref="Serve"/>. Rings the server makes are recorded by slot.
/// </summary>
internal sealed class RpcBench : IDisposable
{
    private readonly List<TestGuest> _guests = [];

    public RpcBench(ulong size = 64UL << 20)
    {
        Temp = new TempZone(size);
        Zone = Temp.Open();
        Server = NewServer();
    }

    public TempZone Temp { get; }

    public Zone Zone { get; private set; }

    public RequestServer Server { get; private set; }

    public ListLogger Log { get; } = new();

    /// <summary>The export policy of a slot's socket; a slot not named here is read-write.</summary>
    public Dictionary<int, ExportPolicy> Policies { get; } = [];

    /// <summary>Slots rung, in order (vector 0 of that guest).</summary>
    public List<int> Rings { get; } = [];

    public NodeRef Root => Node(SgzAbi.RootIno);

    public NodeRef Node(ulong ino) => new(ino, Zone.Names.StatInode(ino).Generation);

    /// <summary>A guest in <paramref name="slot"/>, marked live in the peer table with <paramref name="pid"/>.</summary>
    public TestGuest Guest(int slot, ulong? pid = null)
    {
        Zone.Peers.Set(slot, live: true, pid ?? (ulong)Environment.ProcessId);
        Zone.Areas.Create(slot, 0).Dispose();
        var guest = new TestGuest(Temp.Path, Zone.Geometry, slot);
        _guests.Add(guest);
        return guest;
    }

    public int Serve() => Server.ProcessPending();

    /// <summary>Reply <paramref name="tag"/> of <paramref name="slot"/> in Z, as the host writes it (a guest's mapping of Z is read-only).</summary>
    public ref SgzReply HostReply(int slot, int tag) =>
        ref Zone.Memory.Ref<SgzReply>(Zone.Geometry.RingAreaOffset(slot) + SgzAbi.RingReplies + ((ulong)tag * SgzAbi.ReplySize));

    /// <summary>Sends one request in <paramref name="tag"/>, serves, and returns its published reply.</summary>
    public SgzReply Call(TestGuest guest, SgzRequest request, int tag = 0)
    {
        ulong seq = guest.Send(tag, request);
        Serve();
        return guest.Reply(tag, seq);
    }

    /// <summary>Makes a regular file in the root as uid 1000 and returns it.</summary>
    public NodeRef CreateFile(TestGuest guest, string name, NodeRef? dir = null)
    {
        var reply = Call(guest, Req.Create(dir ?? Root, name));
        Assert.Equal(0u, reply.Status);
        return new NodeRef(reply.Ino, reply.Generation);
    }

    /// <summary>A world-writable directory in the root, so that uid 1000 can work in it.</summary>
    public NodeRef SharedDirectory(string name)
    {
        ulong ino = Zone.Names.MakeDirectory("/" + name, 0x1ff);
        return Node(ino);
    }

    /// <summary>Drops the zone as a killed service would (no clean close), reopens it and starts a new server.</summary>
    public void RestartAfterCrash()
    {
        Zone.Abandon();
        Zone = Temp.Open();
        Server = NewServer();
    }

    /// <summary>Closes the zone, runs fsck on it and reopens it with a new server.</summary>
    public FsckReport Fsck()
    {
        Zone.Dispose();
        var report = ZoneChecker.Check(Temp.Path, repair: false);
        Zone = Temp.Open();
        Server = NewServer();
        return report;
    }

    public void AssertFsckClean()
    {
        var report = Fsck();
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
    }

    public void Dispose()
    {
        _guests.ForEach(g => g.Dispose());
        Zone.Dispose();
        Temp.Dispose();
    }

    private RequestServer NewServer()
    {
        var server = new RequestServer(Zone, Rings.Add, Log, slot => Policies.GetValueOrDefault(slot, ExportPolicy.ReadWrite));
        server.Start();
        return server;
    }
}
