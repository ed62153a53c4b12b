using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Interop.Native;

namespace Stargate.Host.Service;

/// <summary>
/// The service's ivshmem sockets (`serve --socket`, given once or more), one ivshmem server
/// each, and which socket, so which export policy, each connected guest came through. Guest
/// ids come from one pool (the zone's peer slots, <see cref="IGuestSlots"/>). A guest is told
/// only the host's and its own socket's peers: guests ring the host, never each other.
/// Not thread-safe: the service's loop thread calls it.
/// </summary>
internal sealed class GuestSockets : IDisposable
{
    private readonly List<(ExportSocket Socket, IvshmemServer Server)> _servers = [];

    /// <summary>Listens on every socket in order; on a failure the ones already listening are closed again.</summary>
    public GuestSockets(IReadOnlyList<ExportSocket> sockets, int vectors, int maxPeers, PeerAccess access, IGuestSlots slots, ILogger log)
    {
        try
        {
            foreach (var socket in sockets)
            {
                _servers.Add((socket, new IvshmemServer(socket.Path, socket.Policy, vectors, maxPeers, access, slots, log)));
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        // What a guest that came through no socket of this service gets (adopted): what every socket allows.
        Unknown = sockets.Select(s => s.Policy).Aggregate((a, b) => a.Strictest(b));
    }

    /// <summary>The host service as a peer (the first socket's; every socket has its own host eventfds).</summary>
    public IvshmemPeer Host => _servers[0].Server.Host;

    /// <summary>Doorbells the host received per vector, over every socket.</summary>
    public ulong[] HostDoorbells => [.. Host.Doorbells.Select((_, v) => _servers.Aggregate(0UL, (sum, s) => sum + s.Server.Host.Doorbells[v]))];

    /// <summary>The connected QEMUs of every socket.</summary>
    public IEnumerable<IvshmemPeer> Guests => _servers.SelectMany(s => s.Server.Guests);

    /// <summary>The policy of a guest whose socket this service does not know (adopted guests): the strictest of all sockets.</summary>
    public ExportPolicy Unknown { get; }

    public bool Has(int id) => _servers.Any(s => s.Server.Has(id));

    public bool TryGetGuest(int id, out IvshmemPeer guest)
    {
        foreach (var (_, server) in _servers)
        {
            if (server.TryGetGuest(id, out guest))
            {
                return true;
            }
        }

        guest = null!;
        return false;
    }

    /// <summary>The socket a connected guest came through; null for any other id.</summary>
    public ExportSocket? SocketOf(int id) => _servers.FirstOrDefault(s => s.Server.Has(id)).Socket;

    /// <summary>The export policy requests from slot <paramref name="id"/> run under.</summary>
    public ExportPolicy PolicyOf(int id) => SocketOf(id)?.Policy ?? Unknown;

    public void AddWatches(List<PollFd> fds)
    {
        foreach (var (_, server) in _servers)
        {
            server.AddWatches(fds);
        }
    }

    public bool Dispatch(int fd) => _servers.Any(s => s.Server.Dispatch(fd));

    public void RingGuest(int id)
    {
        foreach (var (_, server) in _servers)
        {
            server.RingGuest(id);
        }
    }

    /// <summary>Rings one vector of a connected guest (`stargate ring`).</summary>
    public void Ring(IvshmemPeer guest, int vector) => _servers.First(s => s.Server.Has(guest.Id)).Server.Ring(guest, vector);

    public void Dispose()
    {
        foreach (var (_, server) in _servers)
        {
            server.Dispose();
        }

        _servers.Clear();
    }
}
