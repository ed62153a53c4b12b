using System.Numerics;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The grace period (docs/zone-format.md "The grace period"): data pages a change frees stay
/// in use, marked pending in grace_pages under a new epoch, until every live peer has
/// acknowledged that epoch; only then do they go back to the allocator (bitmap, zeroing).
/// The change also appends one record per inode it freed pages of to the invalidation log,
/// which guests read to drop their mappings. Both are host-written and journalled with the
/// change that frees, so a crash mid-way loses and leaks nothing.
/// </summary>
/// <remarks>
/// Who acknowledged what is this process's own knowledge (<see cref="_acked"/>), learned from
/// SGZ_OP_ACK requests, never read from guest-writable memory. A live guest first seen after the
/// last post cannot map anything freed before it: it counts as having acknowledged everything
/// posted. The host service itself maps file data only as the writer (ZoneFileMapping follows
/// each change as it commits), so it is no peer here; other host processes that map through
/// it are (<see cref="AddHostMapper"/>), acknowledging on its control socket. Every member is called with the
/// zone's lock held; the writes inside a change.
/// </remarks>
internal sealed class GracePeriod(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, PeerTable peers)
{
    /// <summary>Per tracked slot: the peer's SinceNs (a new peer in the slot is another peer) and its acknowledged epoch.</summary>
    private readonly Dictionary<int, (ulong Since, ulong Epoch)> _acked = [];

    /// <summary>
    /// Live slots whose mount ended (SGZ_REQ_ACK_DETACH): they map nothing, so no epoch waits
    /// for them until they acknowledge again, which their next mount does before it returns.
    /// </summary>
    private readonly HashSet<int> _detached = [];

    /// <summary>
    /// Serve's mapping clients (host processes mapping files through it), by session number,
    /// and the epoch each has acknowledged: they hold pages as a guest does.
    /// </summary>
    private readonly Dictionary<ulong, ulong> _hostMappers = [];

    /// <summary>The epoch up to which pending pages were freed by this process (0: not looked yet).</summary>
    private ulong _releasedThrough;

    /// <summary>Whether the invalidation log's header is sound (fsck reports and repairs one that is not; until then pages are freed at once).</summary>
    public bool Enabled => memory.Ref<SgzInvalHeader>(geometry.InvalLog.Offset).Magic == SgzAbi.InvalMagic;

    public ulong PostedEpoch => memory.Ref<SgzInvalHeader>(geometry.InvalLog.Offset).PostedEpoch;

    /// <summary>Data pages waiting for acknowledgements.</summary>
    public ulong PendingPages => memory.Ref<SgzSuperblock>(0).PendingPages;

    public ReadOnlySpan<ulong> PendingBitmap => memory.Span<ulong>(geometry.GracePages.Offset, (geometry.DataPages + 63) / 64);

    public ReadOnlySpan<ulong> ChunkEpochs => memory.Span<ulong>(geometry.GraceEpochs.Offset, geometry.ChunkCount);

    /// <summary>A slot's acknowledged epoch as this process knows it (null: a slot it does not track).</summary>
    public ulong? AckedBy(int slot) => Tracked(slot, out ulong e) ? e : null;

    /// <summary>Writes an empty log's header at format time.</summary>
    public static void Format(ZoneMemory memory, ZoneGeometry geometry)
    {
        ref var h = ref memory.Ref<SgzInvalHeader>(geometry.InvalLog.Offset);
        h.Records = SgzAbi.InvalRecords;
        h.RecordSize = SgzAbi.InvalRecordSize;
        h.Magic = SgzAbi.InvalMagic;
    }

    /// <summary>
    /// Inside a change: holds the freed runs under a new epoch and logs the inodes they
    /// belonged to. Every live guest not yet tracked is tracked from the epoch before, so it
    /// must acknowledge this one. Returns the new epoch.
    /// </summary>
    public ulong Hold(IReadOnlyCollection<NodeRef> inodes, IReadOnlyList<(ulong FirstPage, ulong Count)> runs)
    {
        var log = geometry.InvalLog.Offset;
        ref readonly var header = ref memory.Ref<SgzInvalHeader>(log);
        ulong before = header.PostedEpoch;
        ulong epoch = before + 1;
        ulong head = header.Head;
        foreach (int slot in peers.LiveGuests())
        {
            if (!Tracked(slot, out _) && !_detached.Contains(slot))
            {
                _acked[slot] = (peers.SinceNs(slot), before);
            }
        }

        foreach (var node in inodes)
        {
            ulong at = log + SgzAbi.InvalHeaderSize + (head % SgzAbi.InvalRecords * SgzAbi.InvalRecordSize);
            ref var record = ref writer.RecordForWrite<SgzInvalRecord>(at);
            record = default;
            record.Seq = ++head;
            record.Epoch = epoch;
            record.Ino = node.Ino;
            record.Generation = node.Generation;
        }

        ulong held = 0;
        foreach (var (first, count) in runs)
        {
            SetPending(first, count, pending: true);
            for (ulong c = first / SgzAbi.PagesPerChunk; c <= (first + count - 1) / SgzAbi.PagesPerChunk; c++)
            {
                writer.U64ForWrite(geometry.GraceEpochs.Offset + (c * 8)) = epoch;
            }

            held += count;
        }

        writer.SuperblockForWrite().PendingPages += held;

        // Head before the epoch: a guest that sees the new epoch finds its records.
        ref var w = ref writer.RecordForWrite<SgzInvalHeader>(log);
        w.Head = head;
        Volatile.Write(ref w.PostedEpoch, epoch); // release: the records and head are seen first
        return epoch;
    }

    /// <summary>
    /// Records slot <paramref name="slot"/>'s acknowledgement; refuses (false) an epoch above
    /// the posted one. An older epoch than one it already acknowledged changes nothing. With
    /// <paramref name="detach"/> the slot's mount ended: it is waited for no more until its
    /// next acknowledgement (a slot not yet tracked is tracked from that one).
    /// </summary>
    public bool Ack(int slot, ulong epoch, bool detach = false)
    {
        if (epoch > PostedEpoch)
        {
            return false;
        }

        if (detach)
        {
            _acked.Remove(slot);
            _detached.Add(slot);
            return true;
        }

        _detached.Remove(slot);
        _acked[slot] = (peers.SinceNs(slot), Tracked(slot, out ulong acked) ? Math.Max(epoch, acked) : epoch);
        return true;
    }

    /// <summary>Whether a host process maps files through serve: freed pages wait for it too.</summary>
    public bool HasHostMappers => _hostMappers.Count > 0;

    /// <summary>A new mapping client: it maps nothing freed before now, so it has acknowledged the posted epoch.</summary>
    public void AddHostMapper(ulong session) => _hostMappers[session] = PostedEpoch;

    /// <summary>A mapping client's acknowledgement; false for an epoch above the posted one or a session not known.</summary>
    public bool AckHostMapper(ulong session, ulong epoch)
    {
        if (epoch > PostedEpoch || !_hostMappers.TryGetValue(session, out ulong acked))
        {
            return false;
        }

        _hostMappers[session] = Math.Max(acked, epoch);
        return true;
    }

    /// <summary>A mapping client that closed its connection (or died) maps nothing any more.</summary>
    public void RemoveHostMapper(ulong session) => _hostMappers.Remove(session);

    /// <summary>A peer that left or died acknowledges everything by being gone.</summary>
    public void PeerGone(int slot)
    {
        _acked.Remove(slot);
        _detached.Remove(slot);
    }

    /// <summary>The highest epoch every live guest and mapping client has acknowledged (the posted one when there is none).</summary>
    public ulong SafeEpoch()
    {
        ulong safe = PostedEpoch;
        foreach (ulong acked in _hostMappers.Values)
        {
            safe = Math.Min(safe, acked);
        }

        foreach (int slot in peers.LiveGuests())
        {
            // Not tracked: it went live after the last post, so it never mapped what that freed.
            if (Tracked(slot, out ulong acked))
            {
                safe = Math.Min(safe, acked);
            }
        }

        return safe;
    }

    /// <summary>
    /// Frees the pending pages of every epoch all live guests acknowledged, in one change of its
    /// own (not inside another). Cheap when there is nothing to do. Returns the pages freed.
    /// </summary>
    public ulong TryRelease(Allocator allocator)
    {
        if (!Enabled || writer.InChange || !writer.IsWritable)
        {
            return 0;
        }

        ulong safe = SafeEpoch();
        if (PendingPages == 0 || safe <= _releasedThrough)
        {
            _releasedThrough = PendingPages == 0 ? safe : _releasedThrough;
            return 0;
        }

        ulong freed = writer.Change(() => ReleaseThrough(safe, allocator));
        _releasedThrough = safe;
        return freed;
    }

    /// <summary>
    /// At open by the writer: with no live guest (a fresh start) every pending page is freed.
    /// With guests a previous service left live, nobody knows what they acknowledged: they are
    /// tracked from epoch 0, and the log jumps past a whole ring (and two epochs, past one a
    /// rolled-back change may have shown), so each drops every mapping and acknowledges anew.
    /// </summary>
    public void AtOpen(Allocator allocator)
    {
        if (!Enabled)
        {
            return;
        }

        var live = peers.LiveGuests();
        if (live.Count == 0)
        {
            writer.Change(() => ReleaseThrough(ulong.MaxValue, allocator));
            return;
        }

        writer.Change(() =>
        {
            ref var w = ref writer.RecordForWrite<SgzInvalHeader>(geometry.InvalLog.Offset);
            w.Head += SgzAbi.InvalRecords + 1UL;
            Volatile.Write(ref w.PostedEpoch, w.PostedEpoch + 2);
        });
        foreach (int slot in live)
        {
            _acked[slot] = (peers.SinceNs(slot), 0);
        }
    }

    /// <summary>Whether this process tracks the peer now in <paramref name="slot"/> (not an earlier one of that slot), and its epoch.</summary>
    private bool Tracked(int slot, out ulong epoch)
    {
        if (_acked.TryGetValue(slot, out var t) && t.Since == peers.SinceNs(slot))
        {
            epoch = t.Epoch;
            return true;
        }

        epoch = 0;
        return false;
    }

    /// <summary>Inside a change: frees the pending pages of every chunk whose epoch is at most <paramref name="epoch"/>.</summary>
    public ulong ReleaseThrough(ulong epoch, Allocator allocator)
    {
        var epochs = ChunkEpochs;
        ulong freed = 0;
        for (ulong c = 0; c < geometry.ChunkCount; c++)
        {
            if (epochs[(int)c] == 0 || epochs[(int)c] > epoch)
            {
                continue;
            }

            var words = PendingBitmap.Slice((int)(c * 8), 8);
            for (int i = 0; i < 8; i++)
            {
                for (ulong bits = words[i]; bits != 0;)
                {
                    int bit = BitOperations.TrailingZeroCount(bits);
                    int run = BitOperations.TrailingZeroCount(~(bits >> bit));
                    ulong first = (c * SgzAbi.PagesPerChunk) + (ulong)(i * 64) + (ulong)bit;
                    SetPending(first, (ulong)run, pending: false);
                    allocator.ReleaseHeld(first, (ulong)run);
                    freed += (ulong)run;
                    bits &= run == 64 ? 0 : ~(((1UL << run) - 1) << bit);
                }
            }

            writer.U64ForWrite(geometry.GraceEpochs.Offset + (c * 8)) = 0;
        }

        if (freed > 0)
        {
            ref var sb = ref writer.SuperblockForWrite();
            sb.PendingPages = freed > sb.PendingPages ? 0 : sb.PendingPages - freed;
        }

        return freed;
    }

    private void SetPending(ulong first, ulong count, bool pending)
    {
        ulong end = first + count;
        for (ulong page = first; page < end;)
        {
            int bit = (int)(page % 64);
            int n = (int)Math.Min(64 - (ulong)bit, end - page);
            ulong mask = (n == 64 ? ulong.MaxValue : ((1UL << n) - 1)) << bit;
            ref ulong w = ref writer.U64ForWrite(geometry.GracePages.Offset + (page / 64 * 8));
            if (pending ? (w & mask) != 0 : (w & mask) != mask)
            {
                throw new ZoneCorruptException($"{path}: data page {page} is already {(pending ? "pending" : "not pending")} in the grace period");
            }

            w = pending ? w | mask : w & ~mask;
            page += (ulong)n;
        }
    }
}
