using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Service;

/// <summary>
/// The host service of one zone (`stargate serve`), composed of parts that each own their
/// state: the ivshmem server (QEMU's protocol, doorbell guests, the host as peer 0), the
/// control socket (`stargate peers`, `ring`, `lock`, forwarded commands), the guests a
/// previous service left (<see cref="AdoptedGuests"/>), the guests without doorbells that claim
/// a slot (<see cref="PlainPeers"/>) and the request pump. This type owns what they share:
/// the zone's peer slots (which id a new guest gets, what a departure clears) and the loop.
///
/// One thread runs the loop: a poll over every fd the parts own and a wake eventfd for
/// <see cref="Stop"/>; each event is handled to completion; after every wake-up, and on a
/// timer, departed plain and adopted guests are cleared and the guests' requests served.
/// </summary>
public sealed class StargateService : IDisposable, IGuestSlots
{
    private readonly Zone _zone;
    private readonly ILogger _log;
    private readonly GuestSockets _ivshmem;
    private readonly ControlServer _control;
    private readonly RequestPump _pump;
    private readonly PlainPeers _plain;
    private readonly AdoptedGuests _adopted;
    private readonly int _wake;
    private volatile bool _stopping;

    /// <summary>
    /// Listens on every ivshmem socket and the control socket, then sorts out what a previous service left (adopts or cleans
    /// its guests, publishes its committed replies) and marks the host live in the zone.
    /// Nothing is left open, and no socket file of another server removed, on failure.
    /// </summary>
    /// <param name="commands">Runs a command line forwarded on the control socket (`run`) on this zone; null refuses them.</param>
    public StargateService(Zone zone, ServiceOptions options, ILogger log, Func<RunRequest, RunReply>? commands = null)
    {
        ServerLimits.CheckVectors(options.Vectors);
        int maxPeers = Math.Min(options.MaxPeers, (int)Math.Min(zone.Geometry.MaxPeers - 1, ServerLimits.MaxPeerIds));
        if (maxPeers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxPeers, $"max peers must be 1..{zone.Geometry.MaxPeers - 1} for this zone");
        }

        _zone = zone;

        // The loop thread never waits on a guest: a change that meets a guest's hold on an
        // inode fails at once, and the request server tries it again on a later pass.
        zone.GuestWaitMs = 0;
        Options = options with { MaxPeers = maxPeers };
        _log = log;
        _ivshmem = new GuestSockets(zone.Path, Options.Sockets, options.Vectors, maxPeers, options.Access, this, log);
        _pump = new RequestPump(zone, RingGuest, log, _ivshmem.PolicyOf);
        _plain = new PlainPeers(zone);
        _adopted = new AdoptedGuests(zone, log);
        try
        {
            _control = new ControlServer(options.ControlPath, options.Access, zone, _pump.Requests, _ivshmem, Peers, commands, log);
            try
            {
                _wake = UnixSockets.NewEventfd();
            }
            catch
            {
                _control.Dispose();
                throw;
            }
        }
        catch
        {
            _ivshmem.Dispose();
            throw;
        }

        _adopted.AdoptOrClean(_plain, _pump.Requests);
        _pump.Start();
        zone.Peers.Set(ServerLimits.HostId, live: true, (ulong)Environment.ProcessId);
    }

    public ServiceOptions Options { get; }

    /// <summary>The guests' requests (tests call ProcessPending and HostLock on it directly).</summary>
    public RequestServer Requests => _pump.Requests;

    /// <summary>Runs the loop until <see cref="Stop"/>; each event is handled to completion on this thread.</summary>
    public void Run()
    {
        string sockets = string.Join(' ', Options.Sockets);
        ServiceLog.Serving(_log, _zone.Path, sockets, Options.Vectors, Options.MaxPeers, Options.ControlPath);
        var fds = new List<PollFd>();
        while (!_stopping)
        {
            fds.Clear();
            fds.Add(new PollFd { Fd = _wake, Events = Libc.POLLIN });
            _ivshmem.AddWatches(fds);
            _control.AddWatches(fds);
            var ready = fds.ToArray();
            Sys.Poll(ready, PollTimeoutMs());
            foreach (var fd in ready.Where(f => f.Revents != 0))
            {
                Dispatch(fd.Fd);
            }

            _control.Turn();
            WatchPlain();
            _pump.Turn();
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
    /// <remarks>Each guest shows the socket it came through and its export policy; a guest of no known socket (adopted, plain) has none and the strictest policy.</remarks>
    public IReadOnlyList<PeerStatus> Peers() =>
        [.. new[] { new PeerStatus(ServerLimits.HostId, "host", _ivshmem.Host.Pid, _ivshmem.Host.Since, _ivshmem.Host.Eventfds.Length, _ivshmem.HostDoorbells) }
            .Concat(_ivshmem.Guests.Select(p => new PeerStatus(p.Id, "guest", p.Pid, p.Since, p.Eventfds.Length, [.. p.Doorbells])))
            .Concat(_adopted.Statuses)
            .Concat(_plain.Slots.Select(slot => new PeerStatus(slot, "plain", 0, AdoptedGuests.PeerSince(_zone, slot), 0, [])))
            .Select(p => p.Id == ServerLimits.HostId ? p : p with { Socket = _ivshmem.SocketOf(p.Id)?.Path, Policy = _ivshmem.PolicyOf(p.Id).ToString(), WorstReplyUs = Requests.Latency.WorstMicroseconds(p.Id) })
            .OrderBy(p => p.Id)];

    /// <summary>Closes everything; guests stay live in the zone's peer table (their QEMUs run on, and the next service adopts them).</summary>
    public void Dispose()
    {
        _ivshmem.Dispose();
        _control.Dispose();
        _zone.Peers.Set(ServerLimits.HostId, live: false);
        Libc.Close(_wake);
        ServiceLog.Stopped(_log, Options.SocketPath, Options.ControlPath);
    }

    /// <summary>
    /// The lowest free id whose area the host could mark as its own (0: none). The mark goes
    /// on before QEMU learns the id, so a plain guest's claim (on a slot it read FREE) and a
    /// doorbell QEMU never share a slot; the mark also zeroes the rest of the area, so a
    /// stale request left there is not served as the newcomer's.
    /// </summary>
    int IGuestSlots.Reserve()
    {
        for (int id = 1; id <= Options.MaxPeers; id++)
        {
            bool free = !_ivshmem.Has(id) && !_adopted.Contains(id) && !_plain.Contains(id)
                && !_zone.Peers.IsLive(id);
            if (free && _plain.ReserveForDoorbell(id))
            {
                return id;
            }
        }

        return 0;
    }

    void IGuestSlots.Unreserve(int id) => _plain.Unreserve(id);

    void IGuestSlots.Joined(int id, int pid) => _zone.Peers.Set(id, live: true, (ulong)pid);

    void IGuestSlots.Left(int id) => Departed(id);

    private void Dispatch(int fd)
    {
        if (fd == _wake)
        {
            UnixSockets.Drain(_wake);
        }
        else if (!_ivshmem.Dispatch(fd))
        {
            _control.Dispatch(fd);
        }
    }

    /// <summary>
    /// A guest gone (dropped or dead): the zone forgets it (locks, inode lock words, area,
    /// slot, orphans only it held), and every remaining guest is rung so that whoever waits
    /// on a lock it held asks again.
    /// </summary>
    private void Departed(int id)
    {
        _pump.Requests.PeerGone(id);
        foreach (var other in _ivshmem.Guests)
        {
            _ivshmem.RingGuest(other.Id);
        }
    }

    /// <summary>Rings vector 0 of a connected guest; an adopted or plain guest has no doorbell and polls.</summary>
    private void RingGuest(int id) => _ivshmem.RingGuest(id);

    /// <summary>
    /// Every loop turn: plain guests whose heartbeat stopped or who released their claim
    /// depart, and (every PlainPeers.ScanInterval) FREE slots a plain guest claimed join.
    /// </summary>
    private void WatchPlain()
    {
        long now = Environment.TickCount64;
        foreach (var (slot, why) in _plain.Gone(now))
        {
            ServiceLog.PlainLeft(_log, slot, why);
            Departed(slot);
        }

        try
        {
            foreach (int slot in _plain.Join(now))
            {
                ServiceLog.PlainJoined(_log, slot);
            }
        }
        catch (ZoneException e)
        {
            ServiceLog.PlainJoinFailed(_log, e.Message);
        }
    }

    /// <summary>Every ServerLimits.AdoptedPidCheck: an adopted guest whose QEMU has exited departs.</summary>
    private void WatchAdopted()
    {
        foreach (int slot in _adopted.Gone(Environment.TickCount64))
        {
            Departed(slot);
        }
    }

    /// <summary>The request pump's interval, or sooner when a control client's deadline or a waiting host lock is due.</summary>
    private int PollTimeoutMs()
    {
        int ms = Requests.HasDeferred
            ? 1
            : (int)RequestPump.Interval(guestsWithoutDoorbells: _adopted.Count > 0 || _plain.Count > 0).TotalMilliseconds;
        int control = _control.MillisecondsToNextDeadline();
        return control < 0 ? ms : Math.Min(control, ms);
    }
}
