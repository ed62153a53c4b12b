using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Rpc;

/// <summary>
/// Serves the guests' requests (docs/requests.md): scans the live peers' request
/// rings, checks each request, applies it through the Zone API and writes its
/// reply body in the same journalled change, then publishes done and rings the
/// guest. Everything read from the zone is untrusted; nothing a guest writes makes
/// this class throw (the zone's own faults end as an EIO reply and a log line).
/// Not thread-safe beyond the zone's lock, which every entry point takes.
/// </summary>
public sealed class RequestServer
{
    /// <summary>Passes over the rings per <see cref="ProcessPending"/>: a guest that keeps writing cannot hold the loop.</summary>
    private const int MaxRounds = 4;

    private readonly Zone _zone;
    private readonly Action<int> _ringGuest;
    private readonly Func<int, ExportPolicy> _policyOf;
    private readonly ILogger _log;
    private readonly Dictionary<ulong, HashSet<int>> _lockWaiters = [];

    /// <summary>
    /// Requests put aside because a guest held what they need (<see cref="GuestHoldsException"/>),
    /// by (slot, tag): the copy taken the first time (never copied again) and when.
    /// </summary>
    private readonly Dictionary<(int Slot, int Tag), Deferred> _deferred = [];
    private readonly RateLimit _faultLog = new(TimeSpan.FromSeconds(1));

    /// <summary>The grace period's epoch the live guests were last rung for.</summary>
    private ulong _rungEpoch;

    /// <summary>When the loop woke up for the current <see cref="ProcessPending"/> (Stopwatch ticks).</summary>
    private long _wokeAt;

    /// <param name="ringGuest">Rings a guest's vector 0 (if it has doorbells): after its reply, and when a lock it waits for goes.</param>
    /// <param name="policyOf">The export policy of a guest's slot (the socket it came through); null: every guest read-write.</param>
    public RequestServer(Zone zone, Action<int> ringGuest, ILogger log, Func<int, ExportPolicy>? policyOf = null)
    {
        _zone = zone;
        _ringGuest = ringGuest;
        _policyOf = policyOf ?? (_ => ExportPolicy.ReadWrite);
        _log = log;
    }

    /// <summary>Requests answered since this server started (replies published).</summary>
    public long Served { get; private set; }

    /// <summary>Per guest, the worst time from the loop seeing a request to its reply (`stargate peers`).</summary>
    public ReplyLatency Latency { get; } = new();

    /// <summary>
    /// How long a request may wait, put aside and tried again on later passes, for a guest that
    /// holds an inode's seqcount or lock word; then it is answered EBUSY.
    /// </summary>
    public static TimeSpan GuestHoldLimit { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether requests are put aside for a guest's hold: the loop should look again within a millisecond.</summary>
    public bool HasDeferred => _deferred.Count > 0;

    /// <summary>Fault injection for tests: called after a request's bytes are copied, before its seq is read again.</summary>
    internal Action<int, int>? AfterCopy { get; set; }

    /// <summary>
    /// A service's start (docs/requests.md "When a peer dies, and when the service restarts"):
    /// tells every live guest a new service is here (host_epoch), publishes replies a dead
    /// service committed but did not publish, and frees the orphans nobody holds any more.
    /// </summary>
    public void Start()
    {
        using (_zone.Exclusive())
        {
            // Whatever the host held belonged to the service that is gone: its inode lock words
            // (a change it died in) and its processes' locks (their control connections died with it).
            Guarded("clearing the previous service's inode lock words", () => _zone.LockWords.ReleaseAll(SgzAbi.HostPeerSlot));
            Guarded("dropping the previous service's host locks", () => _zone.Locks.DropLocks(SgzAbi.HostPeerSlot));
            foreach (int slot in _zone.Peers.LiveGuests())
            {
                // Not journalled: the epoch only tells a guest that doorbells it knew are gone.
                Interlocked.Increment(ref _zone.Memory.Ref<SgzRingHeader>(_zone.Geometry.RingAreaOffset(slot)).HostEpoch);
                if (RingArea.Of(_zone, slot) is { } area)
                {
                    for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
                    {
                        PublishIfCommitted(slot, area, tag);
                    }
                }
            }

            Guarded("freeing orphans at start", () => _zone.Orphans.FreeUnheld());
        }
    }

    /// <summary>Serves every pending request of every live guest now; returns how many were answered.</summary>
    /// <param name="wokeAt">When the loop woke up to look (Stopwatch ticks; 0: now), the start of each request's pickup time.</param>
    public int ProcessPending(long wokeAt = 0)
    {
        _wokeAt = wokeAt == 0 ? Stopwatch.GetTimestamp() : wokeAt;
        int served = 0;
        using (_zone.Exclusive())
        {
            for (int round = 0; round < MaxRounds; round++)
            {
                int before = served;
                foreach (int slot in _zone.Peers.LiveGuests())
                {
                    served += ServePeer(slot);
                }

                if (served == before)
                {
                    break;
                }
            }

            TendGracePeriod();
        }

        return served;
    }

    /// <summary>
    /// Looks at the live guests' rings until one holds a pending request (true) or
    /// @deadline passes (false; Stopwatch ticks). Reads only the seq and done words, as a hint
    /// for the loop: <see cref="ProcessPending"/> checks everything again; the caller bounds the
    /// wait, so nothing a guest writes can hold the loop here.
    /// </summary>
    public bool AwaitPending(long deadline)
    {
        var spin = new SpinWait();
        do
        {
            using (_zone.Exclusive())
            {
                foreach (int slot in _zone.Peers.LiveGuests())
                {
                    if (RingArea.Of(_zone, slot) is { } area && HasPending(area))
                    {
                        return true;
                    }
                }
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
        while (Stopwatch.GetTimestamp() < deadline);
        return false;
    }

    private bool HasPending(RingArea area)
    {
        for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
        {
            ulong seq = Volatile.Read(ref area.Guest.Ref<SgzRequest>(RingArea.Request(tag)).Seq);
            if (seq != 0 && seq != Volatile.Read(ref _zone.Memory.Ref<SgzReply>(area.Reply(tag)).Done))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A guest that left or died: its locks and inode lock words go, its replies are zeroed
    /// and its private area removed, its slot freed and the orphans only it held are freed; lock waiters are rung.
    /// The caller rings the remaining guests (inode-lock waiters retry on any ring).
    /// </summary>
    public void PeerGone(int slot)
    {
        using (_zone.Exclusive())
        {
            Guarded($"dropping the locks of peer {slot}", () => _zone.Locks.DropLocks(slot));
            Guarded($"clearing the inode lock words of peer {slot}", () => _zone.LockWords.ReleaseAll(slot));
            Guarded($"zeroing the replies of peer {slot}", () => _zone.Peers.ClearArea(slot));
            Guarded($"removing the private area of peer {slot}", () => _zone.Areas.Remove(slot));
            for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
            {
                _deferred.Remove((slot, tag));
            }

            Latency.Forget(slot);

            Guarded($"freeing peer slot {slot}", () => _zone.Peers.Set(slot, live: false));
            _zone.Grace.PeerGone(slot);
            TendGracePeriod();
            Guarded("freeing orphans", () => _zone.Orphans.FreeUnheld());
            foreach (var waiters in _lockWaiters.Values)
            {
                waiters.Remove(slot);
            }

            RingAllLockWaiters();
        }
    }

    /// <summary>A lock for a process of the host (holder slot 0) in the same lock table the guests use; null = granted.</summary>
    public LockConflict? HostLock(NodeRef file, LockRange range, ulong owner, uint pid)
    {
        using (_zone.Exclusive())
        {
            var conflict = _zone.Locks.SetLock(new LockHolder(SgzAbi.HostPeerSlot, owner, pid), file, range);
            if (conflict is null)
            {
                RingLockWaiters(file.Ino);
            }

            return conflict;
        }
    }

    /// <summary>Drops every host lock of <paramref name="owner"/> (a host process that ended) and rings the waiters.</summary>
    public int HostUnlockAll(ulong owner)
    {
        using (_zone.Exclusive())
        {
            int dropped = _zone.Locks.DropLocks(SgzAbi.HostPeerSlot, owner);
            if (dropped > 0)
            {
                RingAllLockWaiters();
            }

            return dropped;
        }
    }

    /// <summary>Serves one guest's pending slots in rising seq order; returns how many were answered.</summary>
    private int ServePeer(int slot)
    {
        if (RingArea.Of(_zone, slot) is not { } area)
        {
            return 0;
        }

        var pending = new List<(ulong Seq, int Tag)>();
        for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
        {
            ulong seq = Volatile.Read(ref area.Guest.Ref<SgzRequest>(RingArea.Request(tag)).Seq);
            if (seq != 0 && seq != Volatile.Read(ref _zone.Memory.Ref<SgzReply>(area.Reply(tag)).Done))
            {
                Latency.Seen(slot, tag, seq);
                pending.Add((seq, tag));
            }
        }

        pending.Sort();
        int served = 0;
        foreach (var (_, tag) in pending)
        {
            if (ServeSlot(slot, area, tag))
            {
                served++;
            }
        }

        return served;
    }

    /// <summary>One request: copy, check, apply with its reply in one change, publish. False if it was not answered now.</summary>
    private bool ServeSlot(int slot, RingArea area, int tag)
    {
        ref var live = ref area.Guest.Ref<SgzRequest>(RingArea.Request(tag));
        ulong seq = Volatile.Read(ref live.Seq);
        if (seq == 0 || seq == Volatile.Read(ref _zone.Memory.Ref<SgzReply>(area.Reply(tag)).Done))
        {
            return false;
        }

        if (PublishIfCommitted(slot, area, tag))
        {
            return true;
        }

        SgzRequest copy;
        byte[]? payload;
        if (_deferred.TryGetValue((slot, tag), out var put) && put.Request.Seq == seq)
        {
            (copy, payload) = (put.Request, put.Payload); // copied and checked once; only the change is tried again
        }
        else
        {
            _deferred.Remove((slot, tag));
            copy = live;
            // The payload once, with the request and before any check: the guest can rewrite the buffer at any time.
            payload = (copy.Flags & SgzAbi.ReqPayload) != 0
                ? area.Guest.Span(RingArea.Payload(tag), Math.Min(copy.Length, SgzAbi.PayloadSize)).ToArray()
                : null;
            AfterCopy?.Invoke(slot, tag);
            Interlocked.MemoryBarrier();
            if (copy.Seq != seq || Volatile.Read(ref live.Seq) != seq)
            {
                return false; // the guest is still writing this slot: looked at again on the next pass
            }
        }

        long started = Stopwatch.GetTimestamp();
        var reply = Answer(copy, payload, slot, area, tag);
        if (reply is null)
        {
            return false;
        }

        _deferred.Remove((slot, tag));

        long changed = Stopwatch.GetTimestamp();
        bool rung = Publish(slot, area, tag, seq);
        Latency.Served(slot, _wokeAt, started, changed, Stopwatch.GetTimestamp());
        AfterReply(reply.Value, slot, rung);
        return true;
    }

    /// <summary>Applies the request and writes its reply in one change, or, failing, writes an error reply in a change of its own.</summary>
    private Outcome? Answer(in SgzRequest raw, byte[]? payload, int slot, RingArea area, int tag)
    {
        ulong seq = raw.Seq;
        int status;
        try
        {
            var request = _policyOf(slot).Apply(Request.Parse(raw, slot, _zone.Geometry, payload));
            return _zone.Change(() =>
            {
                var outcome = Apply(request) with { DirChange = DirectoryChange(request, request.Node), Dir2Change = request.Opcode == SgzAbi.OpRename && request.Node2.Ino != request.Node.Ino ? DirectoryChange(request, request.Node2) : 0 };
                WriteReply(area, tag, seq, outcome);
                return outcome;
            });
        }
        catch (BadRequestException e)
        {
            status = e.Errno;
            RpcLog.Refused(_log, slot, seq, status, e.Message);
        }
        catch (GuestHoldsException) when (PutAside(raw, payload, slot, tag))
        {
            return null; // undone; tried again on a later pass, with the same copy
        }
        catch (ZoneException e)
        {
            status = ZoneErrors.ToErrno(e.Error);
            RpcLog.Refused(_log, slot, seq, status, e.Message);
        }
        catch (Exception e) when (e is not SimulatedCrashException)
        {
            status = SgzAbi.StatusEio;
            Fault($"peer {slot} request {seq}", e);
        }

        var failed = new Outcome(0, status, default, 0, null);
        try
        {
            _zone.Change(() => WriteReply(area, tag, seq, failed));
            return failed;
        }
        catch (Exception e) when (e is not SimulatedCrashException)
        {
            Fault($"the error reply to peer {slot} request {seq}", e);
            return null;
        }
    }

    /// <summary>
    /// Puts a request whose change met a guest's hold aside for a later pass; false once it
    /// has waited <see cref="GuestHoldLimit"/> (then it is answered EBUSY).
    /// </summary>
    private bool PutAside(in SgzRequest raw, byte[]? payload, int slot, int tag)
    {
        long now = Environment.TickCount64;
        if (!_deferred.TryGetValue((slot, tag), out var put) || put.Request.Seq != raw.Seq)
        {
            _deferred[(slot, tag)] = new Deferred(raw, payload, now);
            return true;
        }

        return now - put.SinceMs < (long)GuestHoldLimit.TotalMilliseconds;
    }

    /// <summary>
    /// The change counter directory @dir will have once a name request's change commits, if
    /// the change wrote it: the request moved it from that value less one, and nothing else
    /// did (docs/requests.md, dir_change). 0 for every other request, and for O_TMPFILE.
    /// </summary>
    private ulong DirectoryChange(Request r, NodeRef dir) =>
        (SgzAbi.OpMaskDirChange & (1u << r.Opcode)) != 0 && !(r.Opcode == SgzAbi.OpCreate && r.Flags == SgzAbi.ReqTmpfile)
            ? _zone.Writer.ChangeOnCommit(dir.Ino)
            : 0;

    private Outcome Apply(Request r)
    {
        var c = r.Caller;
        switch (r.Opcode)
        {
            case SgzAbi.OpCreate when r.Flags == SgzAbi.ReqTmpfile:
                return Made(r, _zone.Names.MakeTmpfile(c, r.Node, r.Mode));
            case SgzAbi.OpCreate or SgzAbi.OpMkdir or SgzAbi.OpMknod or SgzAbi.OpSymlink:
                return Made(r, _zone.Names.MakeNode(c, r.Node, r.Name, r.Mode, r.Name2, rdev: r.Offset));
            case SgzAbi.OpLink:
                return Made(r, _zone.Names.Link(c, r.Node, r.Name, r.Node2));
            case SgzAbi.OpUnlink:
                _zone.Names.Unlink(c, r.Node, r.Name);
                break;
            case SgzAbi.OpRmdir:
                _zone.Names.RemoveDirectory(c, r.Node, r.Name);
                break;
            case SgzAbi.OpRename:
                _zone.Names.Rename(c, r.Node, r.Name, r.Node2, r.Name2, r.Flags);
                break;
            case SgzAbi.OpSetattr:
                return new Outcome(r.Opcode, 0, default, _zone.Files.SetAttributes(c, r.Node, r.Attributes), null);
            case SgzAbi.OpAllocate:
                return new Outcome(r.Opcode, 0, default, _zone.Files.Allocate(c, r.Node, r.Offset, r.Length), null);
            case SgzAbi.OpPunch:
                _zone.Files.Punch(c, r.Node, r.Offset, r.Length);
                break;
            case SgzAbi.OpCopy:
                return new Outcome(r.Opcode, 0, default, _zone.Copies.Copy(c, r.Node, r.Offset, r.Node2, r.Offset2, r.Length, (r.Flags & SgzAbi.ReqCopyFsetid) != 0), null);
            case SgzAbi.OpLock:
                var refused = _zone.Locks.SetLock(r.Holder, r.Node, r.Range);
                return new Outcome(r.Opcode, refused is null ? 0 : SgzAbi.StatusEagain, r.Node, 0, refused) { Wait = refused is not null && r.Wait };
            case SgzAbi.OpGetlk:
                return new Outcome(r.Opcode, 0, r.Node, 0, _zone.Locks.TestLock(r.Holder, r.Node, r.Range));
            case SgzAbi.OpRelease:
                _zone.Orphans.Unhold(r.Node.Ino, c.Slot);
                _zone.Orphans.FreeUnheld();
                break;
            case SgzAbi.OpSetxattr:
                _zone.Xattrs.SetXattr(c, r.Node, r.Name2, r.Payload, r.Flags & ~SgzAbi.ReqXattrAdmin, (r.Flags & SgzAbi.ReqXattrAdmin) != 0);
                break;
            case SgzAbi.OpRemovexattr:
                _zone.Xattrs.RemoveXattr(c, r.Node, r.Name2, (r.Flags & SgzAbi.ReqXattrAdmin) != 0);
                break;
            case SgzAbi.OpAck:
                if (!_zone.Grace.Ack(r.Caller.Slot, r.Offset, detach: (r.Flags & SgzAbi.ReqAckDetach) != 0))
                {
                    throw new BadRequestException(SgzAbi.StatusEinval, $"ack of epoch {r.Offset}, above the posted {_zone.Grace.PostedEpoch}");
                }

                break;
        }

        return new Outcome(r.Opcode, 0, default, 0, null);
    }

    private static Outcome Made(Request r, NodeRef made) => new(r.Opcode, 0, made, 0, null);

    /// <summary>The reply body: everything but done, which is stored only after the change commits.</summary>
    private void WriteReply(RingArea area, int tag, ulong seq, Outcome outcome)
    {
        ref var reply = ref MemoryMarshal.AsRef<SgzReply>(_zone.Writer.BytesForWrite(area.Reply(tag), SgzAbi.ReplySize));
        ulong done = reply.Done;
        reply = default;
        reply.Done = done;
        reply.Seq = seq;
        reply.Status = (uint)outcome.Status;
        bool made = (SgzAbi.OpMaskInodeReply & (1u << outcome.Opcode)) != 0;
        reply.Ino = made ? outcome.Node.Ino : 0;
        reply.Generation = made ? outcome.Node.Generation : 0;
        reply.Size = outcome.Size;
        reply.DirChange = outcome.DirChange;
        reply.Dir2Change = outcome.Dir2Change;
        if (outcome.Conflict is { } conflict)
        {
            reply.LockType = (uint)conflict.Type;
            reply.LockPid = conflict.Pid;
            reply.LockStart = conflict.Start;
            reply.LockEnd = conflict.End;
        }
    }

    /// <summary>A reply body that carries the request's seq is committed: only done is missing (its service died in between).</summary>
    private bool PublishIfCommitted(int slot, RingArea area, int tag)
    {
        ulong seq = Volatile.Read(ref area.Guest.Ref<SgzRequest>(RingArea.Request(tag)).Seq);
        ref var reply = ref _zone.Memory.Ref<SgzReply>(area.Reply(tag));
        if (seq == 0 || Volatile.Read(ref reply.Done) == seq || Volatile.Read(ref reply.Seq) != seq)
        {
            return false;
        }

        Publish(slot, area, tag, seq);
        return true;
    }

    /// <summary>
    /// Publishes the reply, then rings the guest unless it said that none of its waiters sleeps
    /// (docs/requests.md "Polling"): the fence orders the store of done before the read of
    /// sleepers, as the guest orders its count before its last look at done. False when the
    /// guest was not rung.
    /// </summary>
    private bool Publish(int slot, RingArea area, int tag, ulong seq)
    {
        Volatile.Write(ref _zone.Memory.Ref<SgzReply>(area.Reply(tag)).Done, seq);
        Served++;
        Latency.Replied(slot, tag, seq);
        Interlocked.MemoryBarrier();
        ref var ring = ref area.Guest.Ref<SgzRingHeader>(AreaMemory.Ring);
        if ((Volatile.Read(ref ring.GuestFlags) & SgzAbi.RingGuestSleepers) != 0 && Volatile.Read(ref ring.Sleepers) == 0)
        {
            return false;
        }

        _ringGuest(slot);
        return true;
    }

    /// <param name="rung">Whether the reply rang the guest: if not, its own lock waiters are rung with the others.</param>
    private void AfterReply(Outcome outcome, int slot, bool rung)
    {
        if (outcome.Opcode != SgzAbi.OpLock)
        {
            return;
        }

        if (outcome.Status == 0)
        {
            RingLockWaiters(outcome.Node.Ino, except: rung ? slot : -1);
        }
        else if (outcome.Wait)
        {
            if (!_lockWaiters.TryGetValue(outcome.Node.Ino, out var waiters))
            {
                _lockWaiters[outcome.Node.Ino] = waiters = [];
            }

            waiters.Add(slot);
        }
    }

    /// <summary>
    /// A lock on <paramref name="ino"/> was granted or dropped (either may free a range): its
    /// waiters ask again. The slot whose request did it is rung by its reply anyway and stays
    /// waiting (another of its processes may still wait for someone else's lock).
    /// </summary>
    private void RingLockWaiters(ulong ino, int except = -1)
    {
        if (!_lockWaiters.Remove(ino, out var waiters))
        {
            return;
        }

        foreach (int slot in waiters.Where(s => s != except))
        {
            _ringGuest(slot);
        }

        if (waiters.Contains(except))
        {
            _lockWaiters[ino] = [except];
        }
    }

    /// <summary>
    /// After every pass and departure (zone lock held): rings every live guest once for each
    /// newly posted epoch (so it reads the invalidation log), and frees the pending pages every
    /// live guest has acknowledged. Never waits on a guest.
    /// </summary>
    internal void TendGracePeriod()
    {
        ulong posted = _zone.Grace.PostedEpoch;
        if (posted != _rungEpoch)
        {
            _rungEpoch = posted;
            RingAllGuests();
        }

        Guarded("freeing pages past their grace period", () => _zone.Grace.TryRelease(_zone.Allocator));
    }

    private void RingAllGuests()
    {
        foreach (int slot in _zone.Peers.LiveGuests())
        {
            _ringGuest(slot);
        }
    }

    private void RingAllLockWaiters()
    {
        foreach (ulong ino in _lockWaiters.Keys.ToList())
        {
            RingLockWaiters(ino);
        }
    }

    /// <summary>Runs a clean-up step whose failure (a hostile or damaged zone) must not stop the others.</summary>
    private void Guarded(string what, Action step)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is not SimulatedCrashException)
        {
            Fault(what, e);
        }
    }

    private void Fault(string what, Exception e)
    {
        if (_faultLog.Allow(out int suppressed))
        {
            RpcLog.Fault(_log, what, e.GetType().Name, e.Message, suppressed);
        }
    }

    private readonly record struct Deferred(SgzRequest Request, byte[]? Payload, long SinceMs);

    /// <summary>What a request's reply carries besides seq.</summary>
    private readonly record struct Outcome(int Opcode, int Status, NodeRef Node, ulong Size, LockConflict? Conflict)
    {
        public bool Wait { get; init; }

        /// <summary>The reply's dir_change: see <see cref="DirectoryChange"/>.</summary>
        public ulong DirChange { get; init; }

        /// <summary>The reply's dir2_change: a rename's second directory, when it is another.</summary>
        public ulong Dir2Change { get; init; }
    }
}
