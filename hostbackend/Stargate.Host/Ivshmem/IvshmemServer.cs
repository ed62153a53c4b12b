using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Ivshmem;

/// <summary>What `stargate serve` was asked for.</summary>
public sealed record ServerOptions(string SocketPath, string ControlPath, int Vectors, int MaxPeers);

/// <summary>
/// QEMU's ivshmem server protocol (docs/ivshmem-protocol.md) on a unix socket,
/// with the host service as peer 0. One thread runs a poll loop over every fd
/// the server owns: the listening socket, each QEMU's connection (it never
/// sends, so data or hang-up from one ends that peer only), the host's own
/// eventfds (guests' doorbells), the control socket of `stargate peers` and
/// `stargate ring`, and a wake eventfd for Stop. After every wake-up, and on a poll
/// timer, the loop serves the guests' requests (<see cref="Requests"/>).
/// Guests a previous service left live whose QEMU still runs are adopted: served
/// by polling (their doorbells went with that service) and watched until they die.
/// Guests without doorbells (ivshmem-plain: QEMU maps the zone file itself and never
/// connects) claim a free slot in the zone; they are found by a scan of the claims,
/// served by polling, and depart when their heartbeat stops or they release the claim.
/// </summary>
public sealed partial class IvshmemServer : IDisposable
{
    private readonly Zone _zone;
    private readonly ServerOptions _options;
    private readonly ILogger _log;
    private readonly SortedDictionary<int, IvshmemPeer> _guests = [];
    private readonly SortedDictionary<int, AdoptedPeer> _adopted = [];
    private readonly PlainPeers _plain;
    private readonly Dictionary<int, ControlClient> _controls = [];
    private readonly IvshmemPeer _host;
    private readonly int _zoneFd;
    private readonly int _listener;
    private readonly int _control;
    private readonly int _wake;
    private volatile bool _stopping;
    private long _nextPidCheck;

    public IvshmemServer(Zone zone, ServerOptions options, ILogger log)
    {
        ServerLimits.CheckVectors(options.Vectors);
        int maxPeers = Math.Min(options.MaxPeers, (int)Math.Min(zone.Geometry.MaxPeers - 1, ServerLimits.MaxPeerIds));
        if (maxPeers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxPeers, $"max peers must be 1..{zone.Geometry.MaxPeers - 1} for this zone");
        }

        _zone = zone;
        _options = options with { MaxPeers = maxPeers };
        _log = log;
        var opened = new List<int>();
        try
        {
            _zoneFd = OpenZoneFd(zone.Path);
            opened.Add(_zoneFd);
            _wake = UnixSockets.NewEventfd();
            opened.Add(_wake);
            _listener = ListenFresh(options.SocketPath);
            opened.Add(_listener);
            _control = ListenFresh(options.ControlPath);
            opened.Add(_control);
            _host = new IvshmemPeer(ServerLimits.HostId, -1, options.Vectors, Environment.ProcessId);
        }
        catch
        {
            opened.ForEach(fd => Libc.Close(fd));
            TryUnlink(options.SocketPath);
            TryUnlink(options.ControlPath);
            throw;
        }

        Requests = new RequestServer(zone, RingGuest, log);
        _plain = new PlainPeers(zone);
        AdoptOrClean();
        Requests.Start();
        zone.Peers.Set(ServerLimits.HostId, live: true, (ulong)Environment.ProcessId);
    }

    public ServerOptions Options => _options;

    /// <summary>The guests' requests; a control handler that waits for the zone to change calls its ProcessPending in its wait loop.</summary>
    public RequestServer Requests { get; }

    /// <summary>Runs the loop until <see cref="Stop"/>; each event is handled to completion on this thread.</summary>
    public void Run()
    {
        ServerLog.Serving(_log, _zone.Path, _options.SocketPath, _options.Vectors, _options.MaxPeers, _options.ControlPath);
        var fds = new List<PollFd>();
        while (!_stopping)
        {
            fds.Clear();
            fds.Add(Watch(_wake));
            fds.Add(Watch(_listener));
            fds.Add(Watch(_control));
            fds.AddRange(_host.Eventfds.Select(Watch));
            fds.AddRange(_guests.Values.Select(g => Watch(g.Socket)));
            fds.AddRange(_controls.Keys.Select(Watch));
            var ready = PollOnce(fds, PollTimeout());
            foreach (var fd in ready)
            {
                Dispatch(fd);
            }

            ExpireControls();
            WatchPlain();
            Requests.ProcessPending();
            WatchAdopted();
        }
    }

    /// <summary>Asks the loop to end (from a signal handler or another thread).</summary>
    public void Stop()
    {
        _stopping = true;
        UnixSockets.Signal(_wake);
    }

    /// <summary>A snapshot of the peers, the host first: what `stargate peers` prints.</summary>
    public IReadOnlyList<PeerStatus> Peers() =>
        [.. new[] { _host }.Concat(_guests.Values).Select(p => new PeerStatus(p.Id, p.Id == ServerLimits.HostId ? "host" : "guest", p.Pid, p.Since, p.Eventfds.Length, [.. p.Doorbells]))
            .Concat(_adopted.Select(a => new PeerStatus(a.Key, "guest", a.Value.Pid, a.Value.Since, 0, [])))
            .Concat(_plain.Slots.Select(slot => new PeerStatus(slot, "plain", 0, Since(slot), 0, [])))
            .OrderBy(p => p.Id)];

    public void Dispose()
    {
        // Guests stay live in the peer table: their QEMUs run on, and the next service adopts them.
        foreach (var guest in _guests.Values)
        {
            guest.Dispose();
        }

        _guests.Clear();
        foreach (int fd in _controls.Keys)
        {
            Libc.Close(fd);
        }

        _host.Dispose();
        _zone.Peers.Set(ServerLimits.HostId, live: false);
        Libc.Close(_listener);
        Libc.Close(_control);
        Libc.Close(_wake);
        Libc.Close(_zoneFd);
        TryUnlink(_options.SocketPath);
        TryUnlink(_options.ControlPath);
        ServerLog.Stopped(_log, _options.SocketPath, _options.ControlPath);
    }

    private static PollFd Watch(int fd) => new() { Fd = fd, Events = Libc.POLLIN };

    private static unsafe List<PollFd> PollOnce(List<PollFd> fds, int timeoutMs)
    {
        var array = fds.ToArray();
        fixed (PollFd* p = array)
        {
            PollFd* q = p;
            int n = array.Length;
            Sys.Check(() => Libc.Poll(q, (nuint)n, timeoutMs), "poll");
        }

        return [.. array.Where(f => f.Revents != 0)];
    }

    private void Dispatch(PollFd ready)
    {
        int fd = ready.Fd;
        if (fd == _wake)
        {
            UnixSockets.Drain(_wake);
        }
        else if (fd == _listener)
        {
            AcceptGuests();
        }
        else if (fd == _control)
        {
            AcceptControls();
        }
        else if (Array.IndexOf(_host.Eventfds, fd) is int vector and >= 0)
        {
            ulong rings = UnixSockets.Drain(fd);
            _host.Doorbells[vector] += rings;
            ServerLog.HostDoorbell(_log, vector, rings);
        }
        else if (_guests.Values.FirstOrDefault(g => g.Socket == fd) is { } guest)
        {
            GuestReadable(guest);
        }
        else if (_controls.ContainsKey(fd))
        {
            ControlReadable(fd);
        }
    }

    private void AcceptGuests()
    {
        for (int socket = UnixSockets.Accept(_listener); socket >= 0; socket = UnixSockets.Accept(_listener))
        {
            int pid = UnixSockets.PeerCredentials(socket).Pid;
            int id = ReserveSlot();
            if (id == 0)
            {
                // QEMU cannot be told no: closing before the zone fd makes it spin (FACTS.md), so
                // the refusal is logged where the operator looks, and the connection closed.
                ServerLog.Full(_log, pid, _options.MaxPeers);
                Libc.Close(socket);
                continue;
            }

            IvshmemPeer guest;
            try
            {
                guest = new IvshmemPeer(id, socket, _options.Vectors, pid);
            }
            catch (NativeException e)
            {
                _plain.Unreserve(id);
                ServerLog.SetupFailed(_log, pid, e.Message);
                Libc.Close(socket);
                continue;
            }

            if (!Welcome(guest))
            {
                _plain.Unreserve(id);
                guest.Dispose();
                continue;
            }

            _guests[id] = guest;
            _zone.Peers.Set(id, live: true, (ulong)pid);
            foreach (var other in _guests.Values.Where(g => g.Id != id).ToList())
            {
                if (!Send(other, () => Announce(other, guest)))
                {
                    Drop(other, "did not take the news of a new peer");
                }
            }

            ServerLog.Joined(_log, id, pid, _options.Vectors);
        }
    }

    /// <summary>
    /// The lowest free id whose area the host could mark as its own (0: none). The mark goes
    /// on before QEMU learns the id, so a plain guest's claim (on a slot it read FREE) and a
    /// doorbell QEMU never share a slot; the mark also zeroes the rest of the area, so a
    /// stale request left there is not served as the newcomer's.
    /// </summary>
    private int ReserveSlot()
    {
        for (int id = 1; id <= _options.MaxPeers; id++)
        {
            bool free = !_guests.ContainsKey(id) && !_adopted.ContainsKey(id) && !_plain.Contains(id)
                && Volatile.Read(ref _zone.Peers.Record(id).State) == SgzAbi.PeerFree;
            if (free && _plain.ReserveForDoorbell(id))
            {
                return id;
            }
        }

        return 0;
    }

    /// <summary>The set-up sequence a new QEMU reads while its device is created: version, its id, the zone, every peer's eventfds, its own.</summary>
    private bool Welcome(IvshmemPeer guest) => Send(guest, () =>
    {
        UnixSockets.SendMessage(guest.Socket, ServerLimits.ProtocolVersion, -1);
        UnixSockets.SendMessage(guest.Socket, guest.Id, -1);
        UnixSockets.SendMessage(guest.Socket, -1, _zoneFd);
        Announce(guest, _host);
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
            ServerLog.SendFailed(_log, to.Id, to.Pid, e.Message);
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

    private void Drop(IvshmemPeer guest, string why)
    {
        if (!_guests.Remove(guest.Id))
        {
            return;
        }

        guest.Dispose();
        ServerLog.Dropped(_log, guest.Id, guest.Pid, why);
        Departed(guest.Id);
        foreach (var other in _guests.Values.ToList())
        {
            if (!Send(other, () => UnixSockets.SendMessage(other.Socket, guest.Id, -1)))
            {
                Drop(other, "did not take the news of a departure");
            }
        }
    }

    /// <summary>
    /// A guest gone (dropped or dead): the zone forgets it (locks, inode lock words, area,
    /// slot, orphans only it held), and every remaining guest is rung so that whoever waits
    /// on a lock it held asks again.
    /// </summary>
    private void Departed(int id)
    {
        Requests.PeerGone(id);
        foreach (var other in _guests.Values)
        {
            RingGuest(other.Id);
        }
    }

    /// <summary>
    /// Every loop turn: plain guests whose heartbeat stopped or who released their claim
    /// depart, and (every PlainPeers.ScanInterval) FREE slots a plain guest claimed join.
    /// </summary>
    private void WatchPlain()
    {
        long now = Environment.TickCount64;
        foreach (var (slot, why) in _plain.Gone(now))
        {
            ServerLog.PlainLeft(_log, slot, why);
            Departed(slot);
        }

        try
        {
            foreach (int slot in _plain.Join(now))
            {
                ServerLog.PlainJoined(_log, slot);
            }
        }
        catch (ZoneException e)
        {
            ServerLog.PlainJoinFailed(_log, e.Message);
        }
    }

    private DateTimeOffset Since(int slot) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(_zone.Peers.Record(slot).SinceNs / 1_000_000, (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    /// <summary>Rings vector 0 of a connected guest; an adopted or plain guest has no doorbell and polls.</summary>
    private void RingGuest(int id)
    {
        if (_guests.TryGetValue(id, out var guest) && guest.Eventfds.Length > 0 && guest.Eventfds[0] >= 0)
        {
            try
            {
                UnixSockets.Signal(guest.Eventfds[0]);
            }
            catch (NativeException e)
            {
                ServerLog.SendFailed(_log, id, guest.Pid, e.Message);
            }
        }
    }

    /// <summary>
    /// At start (docs/requests.md "When a peer dies, and when the service restarts"): a guest
    /// slot a previous service left live is adopted if its QEMU still runs, or, with pid 0, if
    /// a plain guest's claim is in its area (its heartbeat is watched from now); else it is
    /// cleaned up as a departure. The pid is the guest's word only as far as the peer table is
    /// guest-writable: a wrong one keeps a slot adopted, it cannot harm another guest.
    /// </summary>
    private void AdoptOrClean()
    {
        _plain.DropStaleMarks();
        foreach (int slot in _zone.Peers.LiveGuests())
        {
            ulong pid = _zone.Peers.Record(slot).Pid;
            if (pid == 0 && _plain.Adopt(slot, Environment.TickCount64))
            {
                ServerLog.PlainAdopted(_log, slot);
            }
            else if (IsAlive(pid))
            {
                _adopted[slot] = new AdoptedPeer((int)pid, Since(slot));
                ServerLog.Adopted(_log, slot, (int)pid);
            }
            else
            {
                Requests.PeerGone(slot);
                ServerLog.ClearedStale(_log, slot, pid);
            }
        }

        _nextPidCheck = Environment.TickCount64 + (long)ServerLimits.AdoptedPidCheck.TotalMilliseconds;
    }

    /// <summary>Every 500 ms: an adopted guest whose QEMU has exited departs.</summary>
    private void WatchAdopted()
    {
        if (_adopted.Count == 0 || Environment.TickCount64 < _nextPidCheck)
        {
            return;
        }

        _nextPidCheck = Environment.TickCount64 + (long)ServerLimits.AdoptedPidCheck.TotalMilliseconds;
        foreach (var (id, peer) in _adopted.Where(a => !IsAlive((ulong)a.Value.Pid)).ToList())
        {
            _adopted.Remove(id);
            ServerLog.Dropped(_log, id, peer.Pid, "left (its QEMU process is gone)");
            Departed(id);
        }
    }

    /// <summary>
    /// Adopted and plain guests have no doorbells, so their requests are found by polling fast;
    /// otherwise a slow poll covers a guest whose doorbell was lost (eventfds coalesce, MSI-X may
    /// be off) and the scan for new plain guests' claims.
    /// </summary>
    private int PollTimeout()
    {
        var poll = _adopted.Count > 0 || _plain.Count > 0 ? ServerLimits.AdoptedPoll : ServerLimits.SafetyPoll;
        int control = MillisecondsToNextDeadline();
        int ms = (int)poll.TotalMilliseconds;
        return control < 0 ? ms : Math.Min(control, ms);
    }

    private static bool IsAlive(ulong pid) =>
        pid is > 0 and <= int.MaxValue && (Libc.Kill((int)pid, 0) == 0 || Directory.Exists($"/proc/{pid}"));

    /// <summary>
    /// Listens on <paramref name="path"/>, removing a stale socket file first (one nobody
    /// answers on); a live server there is an error, never taken over.
    /// </summary>
    private static int ListenFresh(string path)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            if ((File.GetAttributes(path) & FileAttributes.Directory) != 0)
            {
                throw new ZoneException(ZoneError.Exists, $"{path} is a directory");
            }

            try
            {
                Libc.Close(UnixSockets.Connect(path));
                throw new ZoneException(ZoneError.Busy, $"{path}: another server is listening there");
            }
            catch (NativeException)
            {
                File.Delete(path); // nobody answers: a socket left by a service that died
            }
        }

        return UnixSockets.Listen(path, 64);
    }

    private static int OpenZoneFd(string path)
    {
        using var handle = ZoneFile.Open(path, ZoneFile.Mode.ReadWrite);
        int fd = (int)handle.DangerousGetHandle();
        handle.SetHandleAsInvalid(); // keep the fd open: QEMU gets it on every connection
        return fd;
    }

    private static void TryUnlink(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A guest a previous service left live whose QEMU still runs: served by polling, its process watched.</summary>
internal sealed record AdoptedPeer(int Pid, DateTimeOffset Since);

/// <summary>One row of `stargate peers`.</summary>
public sealed record PeerStatus(int Id, string Kind, int Pid, DateTimeOffset Since, int Vectors, ulong[] Doorbells)
{
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
