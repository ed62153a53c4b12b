using Microsoft.Extensions.Logging;
using Stargate.Host.Zones;
using Microsoft.Win32.SafeHandles;
using Stargate.Host.Rpc;
using Stargate.Interop.Native;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// QEMU's ivshmem-server protocol (docs/ivshmem-protocol.md) on a unix socket, with the host
/// service as peer 0. Owns the listening socket, the host's own eventfds (guests' doorbells to the host) and each connected QEMU with its eventfds.
/// Each QEMU is handed its own private area (<see cref="IGuestSlots.CreateArea"/>) as its shared
/// memory, never a file another guest maps. A QEMU never sends on its connection: data or hang-up from one ends that peer only. Which
/// slot a QEMU gets, and what its departure clears, is the zone's business (<see cref="IGuestSlots"/>).
/// Not thread-safe: the service's loop thread calls it.
/// </summary>
internal sealed class IvshmemServer : IDisposable
{
    private readonly SortedDictionary<int, IvshmemPeer> _guests = [];
    private readonly IGuestSlots _slots;
    private readonly ILogger _log;
    private readonly string _socketPath;
    private readonly int _vectors;
    private readonly int _maxPeers;
    private readonly PeerAccess _access;
    private readonly ExportPolicy _policy;
    private readonly int _listener;

    /// <summary>Listens on <paramref name="socketPath"/> and makes the host's eventfds; nothing is left open on failure.</summary>
    /// <param name="access">Who may connect; anyone else is closed on before anything is sent.</param>
    /// <param name="policy">The socket's export policy, written into each of its guests' areas.</param>
    public IvshmemServer(string socketPath, ExportPolicy policy, int vectors, int maxPeers, PeerAccess access, IGuestSlots slots, ILogger log)
    {
        ServerLimits.CheckVectors(vectors);
        _socketPath = socketPath;
        _policy = policy;
        _vectors = vectors;
        _maxPeers = maxPeers;
        _access = access;
        _slots = slots;
        _log = log;
        _listener = SocketFile.Listen(socketPath, access.SocketMode);
        try
        {
            Host = new IvshmemPeer(ServerLimits.HostId, -1, vectors, Environment.ProcessId);
        }
        catch
        {
            SocketFile.Close(_listener, socketPath);
            throw;
        }
    }

    /// <summary>The host service as a peer: no socket; guests ring its eventfds.</summary>
    public IvshmemPeer Host { get; }

    /// <summary>The connected QEMUs, by id.</summary>
    public IEnumerable<IvshmemPeer> Guests => _guests.Values;

    public bool Has(int id) => _guests.ContainsKey(id);

    public bool TryGetGuest(int id, out IvshmemPeer guest) => _guests.TryGetValue(id, out guest!);

    /// <summary>The fds the loop waits on for this server: the listener, the host's eventfds, each QEMU's connection.</summary>
    public void AddWatches(List<PollFd> fds)
    {
        fds.Add(Watch(_listener));
        fds.AddRange(Host.Eventfds.Select(Watch));
        fds.AddRange(_guests.Values.Select(g => Watch(g.Socket)));
    }

    /// <summary>Handles a ready fd if it is one of this server's; false if it is not.</summary>
    public bool Dispatch(int fd)
    {
        if (fd == _listener)
        {
            AcceptGuests();
        }
        else if (Array.IndexOf(Host.Eventfds, fd) is int vector and >= 0)
        {
            ulong rings = UnixSockets.Drain(fd);
            Host.Doorbells[vector] += rings;
            IvshmemLog.HostDoorbell(_log, vector, rings);
        }
        else if (_guests.Values.FirstOrDefault(g => g.Socket == fd) is { } guest)
        {
            GuestReadable(guest);
        }
        else
        {
            return false;
        }

        return true;
    }

    /// <summary>Rings vector 0 of a connected guest (its reply is there, or a lock it waits for went); others poll.</summary>
    public void RingGuest(int id)
    {
        if (_guests.TryGetValue(id, out var guest) && guest.Eventfds.Length > 0 && guest.Eventfds[0] >= 0)
        {
            try
            {
                UnixSockets.Signal(guest.Eventfds[0]);
            }
            catch (NativeException e)
            {
                IvshmemLog.SendFailed(_log, id, guest.Pid, e.Message);
            }
        }
    }

    /// <summary>Rings one vector of a guest (an MSI-X interrupt in it), as `stargate ring` asks.</summary>
    public void Ring(IvshmemPeer guest, int vector)
    {
        UnixSockets.Signal(guest.Eventfds[vector]);
        IvshmemLog.Rang(_log, guest.Id, vector);
    }

    /// <summary>Closes every connection and fd and removes the socket file. Guests stay live in the zone: their QEMUs run on, and the next service adopts them.</summary>
    public void Dispose()
    {
        foreach (var guest in _guests.Values)
        {
            guest.Dispose();
        }

        _guests.Clear();
        Host.Dispose();
        SocketFile.Close(_listener, _socketPath);
    }

    private static PollFd Watch(int fd) => new() { Fd = fd, Events = Libc.POLLIN };

    private void AcceptGuests()
    {
        for (int socket = UnixSockets.Accept(_listener); socket >= 0; socket = UnixSockets.Accept(_listener))
        {
            var peer = UnixSockets.PeerCredentials(socket);
            int pid = peer.Pid;
            if (_access.Refusal(peer) is { } refusal)
            {
                // Nothing is sent (no version, no id, no zone fd): such a QEMU spins (FACTS.md),
                // which is its operator's to see in this line.
                IvshmemLog.Refused(_log, _socketPath, pid, peer.Uid, refusal);
                Libc.Close(socket);
                continue;
            }

            int id = _slots.Reserve();
            if (id == 0)
            {
                // QEMU cannot be told no: closing before the zone fd makes it spin (FACTS.md), so
                // the refusal is logged where the operator looks, and the connection closed.
                IvshmemLog.Full(_log, pid, _maxPeers);
                Libc.Close(socket);
                continue;
            }

            IvshmemPeer guest;
            SafeFileHandle area;
            try
            {
                area = _slots.CreateArea(id, _policy);
            }
            catch (Exception e) when (e is NativeException or IOException or UnauthorizedAccessException or ZoneException)
            {
                _slots.Unreserve(id);
                IvshmemLog.SetupFailed(_log, pid, e.Message);
                Libc.Close(socket);
                continue;
            }

            using (area)
            {
                try
                {
                    guest = new IvshmemPeer(id, socket, _vectors, pid);
                }
                catch (NativeException e)
                {
                    _slots.Unreserve(id);
                    IvshmemLog.SetupFailed(_log, pid, e.Message);
                    Libc.Close(socket);
                    continue;
                }

                if (!Welcome(guest, (int)area.DangerousGetHandle()))
                {
                    _slots.Unreserve(id);
                    guest.Dispose();
                    continue;
                }
            }

            _guests[id] = guest;
            _slots.Joined(id, pid);
            foreach (var other in _guests.Values.Where(g => g.Id != id).ToList())
            {
                if (!Send(other, () => Announce(other, guest)))
                {
                    Drop(other, "did not take the news of a new peer");
                }
            }

            IvshmemLog.Joined(_log, id, pid, _vectors);
        }
    }

    /// <summary>The set-up sequence a new QEMU reads while its device is created: version, its id, its private area, every peer's eventfds, its own.</summary>
    private bool Welcome(IvshmemPeer guest, int areaFd) => Send(guest, () =>
    {
        UnixSockets.SendMessage(guest.Socket, ServerLimits.ProtocolVersion, -1);
        UnixSockets.SendMessage(guest.Socket, guest.Id, -1);
        UnixSockets.SendMessage(guest.Socket, -1, areaFd);
        Announce(guest, Host);
        foreach (var other in _guests.Values)
        {
            Announce(guest, other);
        }

        Announce(guest, guest);
    });

    /// <summary>Tells <paramref name="to"/> the eventfds of <paramref name="peer"/>, one message per vector, in order.</summary>
    private static void Announce(IvshmemPeer to, IvshmemPeer peer)
    {
        foreach (int fd in peer.Eventfds)
        {
            UnixSockets.SendMessage(to.Socket, peer.Id, fd);
        }
    }

    private bool Send(IvshmemPeer to, Action send)
    {
        try
        {
            send();
            return true;
        }
        catch (Exception e) when (e is NativeException or IOException)
        {
            IvshmemLog.SendFailed(_log, to.Id, to.Pid, e.Message);
            return false;
        }
    }

    /// <summary>QEMU never sends on this socket: end of file means it exited; any byte is garbage.</summary>
    private void GuestReadable(IvshmemPeer guest)
    {
        Span<byte> probe = stackalloc byte[64];
        int n = UnixSockets.ReceiveNow(guest.Socket, probe);
        if (n == 0)
        {
            Drop(guest, "left (its QEMU closed the connection)");
        }
        else if (n > 0)
        {
            Drop(guest, $"sent {n} bytes, which this protocol never carries from a client: dropped");
        }
    }

    /// <summary>Ends a guest: the zone forgets it (which rings the rest), then every remaining QEMU is told it left.</summary>
    private void Drop(IvshmemPeer guest, string why)
    {
        if (!_guests.Remove(guest.Id))
        {
            return;
        }

        guest.Dispose();
        IvshmemLog.Dropped(_log, guest.Id, guest.Pid, why);
        _slots.Left(guest.Id);
        foreach (var other in _guests.Values.ToList())
        {
            if (!Send(other, () => UnixSockets.SendMessage(other.Socket, guest.Id, -1)))
            {
                Drop(other, "did not take the news of a departure");
            }
        }
    }
}
