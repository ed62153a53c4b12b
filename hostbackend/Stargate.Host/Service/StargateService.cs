using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Native;

namespace Stargate.Host.Service;

/// <summary>
/// The host service of one zone (`stargate serve`), composed of parts that each own their
/// state: the ivshmem server (QEMU's protocol, doorbell guests, the host as peer 0), the
/// control socket (`stargate peers`, `ring`, `lock`, forwarded commands), the guests a
/// previous service left (<see cref="AdoptedGuests"/>) and the request pump. This type owns
/// what they share: the zone's peer slots (which id a new guest gets, its private area, what
/// a departure clears) and the loop.
///
/// One thread runs the loop: a poll over every fd the parts own and a wake eventfd for
/// <see cref="Stop"/>; each event is handled to completion; after every wake-up, and on a
/// timer, departed adopted guests are cleared and the guests' requests served. After it
/// answers a request the loop may look at the rings for a while (<see cref="PollWindow"/>, at
/// most ServiceOptions.PollWindow) before it sleeps again, so a guest's next request is taken
/// without a doorbell's wake-up.
/// </summary>
public sealed class StargateService : IDisposable, IGuestSlots
{
    private readonly Zone _zone;
    private readonly ILogger _log;
    private readonly GuestSockets _ivshmem;
    private readonly ControlServer _control;
    private readonly RequestPump _pump;
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
        _ivshmem = new GuestSockets(Options.Sockets, options.Vectors, maxPeers, options.Access, this, log);
        _pump = new RequestPump(zone, RingGuest, log, _ivshmem.PolicyOf);
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

        _adopted.AdoptOrClean(_pump.Requests);
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
        var window = new PollWindow((long)(Options.PollWindow.TotalSeconds * Stopwatch.Frequency));
        long lastReply = 0;
        while (!_stopping)
        {
            fds.Clear();
            fds.Add(new PollFd { Fd = _wake, Events = Libc.POLLIN });
            _ivshmem.AddWatches(fds);
            _control.AddWatches(fds);
            var ready = fds.ToArray();
            bool found = lastReply != 0 && window.Ticks > 0 && _pump.Requests.AwaitPending(lastReply + window.Ticks);
            if (found)
            {
                window.Found();
            }

            Sys.Poll(ready, found ? 0 : PollTimeoutMs());
            long woke = Stopwatch.GetTimestamp();
            foreach (var fd in ready.Where(f => f.Revents != 0))
            {
                Dispatch(fd.Fd);
            }

            _control.Turn();
            if (_pump.Turn(woke) > 0)
            {
                if (!found && lastReply != 0)
                {
                    window.Slept(woke - lastReply);
                }

                lastReply = Stopwatch.GetTimestamp();
            }

            WatchAdopted();
            if (_zone.RestoreDataHeader())
            {
                ServiceLog.DataHeaderRestored(_log, _zone.DataPath);
            }
        }
    }

    /// <summary>Asks the loop to end (from a signal handler or another thread).</summary>
    public void Stop()
    {
        _stopping = true;
        UnixSockets.Signal(_wake);
    }

    /// <summary>A snapshot of the peers, the host first: what `stargate peers` prints.</summary>
    /// <remarks>Each guest shows the socket it came through and its export policy; a guest of no known socket (adopted) has none and the strictest policy. The grace epochs are read under the zone's lock.</remarks>
    public IReadOnlyList<PeerStatus> Peers()
    {
        using (_zone.Exclusive())
        {
            return [.. new[] { new PeerStatus(ServerLimits.HostId, "host", _ivshmem.Host.Pid, _ivshmem.Host.Since, _ivshmem.Host.Eventfds.Length, _ivshmem.HostDoorbells) { GraceEpoch = _zone.Grace.PostedEpoch } }
                .Concat(_ivshmem.Guests.Select(p => new PeerStatus(p.Id, "guest", p.Pid, p.Since, p.Eventfds.Length, [.. p.Doorbells])))
                .Concat(_adopted.Statuses)
                .Select(p => p.Id == ServerLimits.HostId ? p : p with { Socket = _ivshmem.SocketOf(p.Id)?.Path, Policy = _ivshmem.PolicyOf(p.Id).ToString(), WorstReplyUs = Requests.Latency.WorstMicroseconds(p.Id), Cost = Requests.Latency.CostOf(p.Id), GraceEpoch = _zone.Grace.AckedBy(p.Id) })
                .OrderBy(p => p.Id)];
        }
    }

    /// <summary>Closes everything; guests stay live in the zone's peer table (their QEMUs run on, and the next service adopts them).</summary>
    public void Dispose()
    {
        _ivshmem.Dispose();
        _control.Dispose();
        _zone.Peers.Set(ServerLimits.HostId, live: false);
        Libc.Close(_wake);
        ServiceLog.Stopped(_log, Options.SocketPath, Options.ControlPath);
    }

    /// <summary>The lowest free id (0: none): not connected, adopted or live in the zone.</summary>
    int IGuestSlots.Reserve()
    {
        for (int id = 1; id <= Options.MaxPeers; id++)
        {
            if (!_ivshmem.Has(id) && !_adopted.Contains(id) && !_zone.Peers.IsLive(id))
            {
                return id;
            }
        }

        return 0;
    }

    void IGuestSlots.Unreserve(int id) => _zone.Areas.Remove(id);

    /// <summary>A new private area for a reserved id: its file's fd, for the ivshmem server to send as the QEMU's shared memory.</summary>
    SafeFileHandle IGuestSlots.CreateArea(int id, ExportPolicy policy) =>
        _zone.Areas.Create(id, (uint)((policy.ReadOnly ? SgzAbi.AreaReadonly : 0) | (policy.RootSquash ? SgzAbi.AreaRootSquash : 0)));

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

    /// <summary>Rings vector 0 of a connected guest; an adopted guest has no doorbell and polls.</summary>
    private void RingGuest(int id) => _ivshmem.RingGuest(id);

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
            : (int)RequestPump.Interval(guestsWithoutDoorbells: _adopted.Count > 0).TotalMilliseconds;
        int control = _control.MillisecondsToNextDeadline();
        return control < 0 ? ms : Math.Min(control, ms);
    }
}
