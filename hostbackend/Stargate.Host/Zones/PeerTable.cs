using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The peer table (struct sgz_peer) and the peers' ring areas: who is attached to the zone,
/// for guests to read and for the host to clean up after. Slot = ivshmem id; slot 0 is the
/// host service. Only the host writes the table, in journalled changes; a slot outside
/// 0..max_peers-1 is refused before anything is read. Public members take the zone's lock.
/// </summary>
/// <remarks>
/// Who is live, with which pid and since when, is this process's own knowledge
/// (<see cref="_known"/>): read from the zone once, when the zone is opened (what a previous
/// writer left: the service adopts or cleans those peers), then changed only by
/// <see cref="Set"/>. The zone's table is a copy written for guests, fsck and the next
/// writer, never read back: in zone format 1 a guest can write it, and a slot it marked
/// live or free must not become a peer the host serves or a slot it hands out.
/// </remarks>
public sealed class PeerTable
{
    private readonly string _path;
    private readonly ZoneMemory _memory;
    private readonly ZoneGeometry _geometry;
    private readonly ZoneWriter _writer;
    private readonly Lock _gate;
    private readonly Known[] _known;

    internal PeerTable(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, Lock gate)
    {
        _path = path;
        _memory = memory;
        _geometry = geometry;
        _writer = writer;
        _gate = gate;
        _known = new Known[geometry.MaxPeers];
        for (int slot = 0; slot < _known.Length; slot++)
        {
            var record = _memory.Ref<SgzPeer>(RecordOffset(slot));
            _known[slot] = record.State == SgzAbi.PeerLive ? new Known(true, record.Pid, record.SinceNs) : default;
        }
    }

    /// <summary>The slots of the zone's peer table (max_peers).</summary>
    public int Count => _known.Length;

    /// <summary>Whether this process knows slot <paramref name="slot"/> as live (it set it so, or found it so at open).</summary>
    public bool IsLive(int slot)
    {
        Check(slot);
        return _known[slot].Live;
    }

    /// <summary>The pid slot <paramref name="slot"/>'s peer was marked live with (0: a plain guest, or none).</summary>
    public ulong Pid(int slot)
    {
        Check(slot);
        return _known[slot].Pid;
    }

    /// <summary>When slot <paramref name="slot"/>'s peer joined, in ns since the Unix epoch (0: free).</summary>
    public ulong SinceNs(int slot)
    {
        Check(slot);
        return _known[slot].SinceNs;
    }

    /// <summary>The live record of a slot, for reading (guests read it too; read its state word with Volatile).</summary>
    internal ref SgzPeer Record(int slot)
    {
        Check(slot);
        return ref _memory.Ref<SgzPeer>(RecordOffset(slot));
    }

    /// <summary>Marks a peer live (with its ivshmem id and process) or free; one change.</summary>
    public void Set(int slot, bool live, ulong pid = 0)
    {
        Check(slot);
        lock (_gate)
        {
            var known = live ? new Known(true, pid, ZoneClock.NowNs()) : default;
            _writer.Change(() =>
            {
                ref var peer = ref ForWrite(slot);
                peer.State = live ? (uint)SgzAbi.PeerLive : (uint)SgzAbi.PeerFree;
                peer.Ivposition = (uint)slot;
                peer.Pid = known.Pid;
                peer.SinceNs = known.SinceNs;
                peer.Heartbeat = 0;
            });
            _known[slot] = known;
        }
    }

    /// <summary>Frees every guest slot marked live: at service start, none can be (their QEMUs reconnect).</summary>
    public int ClearStale()
    {
        lock (_gate)
        {
            int cleared = 0;
            for (int slot = SgzAbi.HostPeerSlot + 1; slot < _geometry.MaxPeers; slot++)
            {
                if (_known[slot].Live || Record(slot).State != SgzAbi.PeerFree)
                {
                    Set(slot, live: false);
                    cleared++;
                }
            }

            return cleared;
        }
    }

    /// <summary>Guest slots (1..max_peers-1) the table marks live now: the ones whose areas are served and whose open tables count.</summary>
    public IReadOnlyList<int> LiveGuests()
    {
        var live = new List<int>();
        for (int slot = SgzAbi.HostPeerSlot + 1; slot < _geometry.MaxPeers; slot++)
        {
            if (_known[slot].Live)
            {
                live.Add(slot);
            }
        }

        return live;
    }

    /// <summary>Where slot <paramref name="slot"/>'s ring area in Z starts (rings.offset + slot * ring_bytes): its host_epoch and reply ring.</summary>
    public ulong AreaOffset(int slot)
    {
        Check(slot);
        return _geometry.RingAreaOffset(slot);
    }

    /// <summary>Zeroes a peer's ring area in Z (its replies): runtime state, not journalled. Its private area is <see cref="GuestAreas"/>'.</summary>
    public void ClearArea(int slot)
    {
        Check(slot);
        lock (_gate)
        {
            if (!_writer.IsWritable)
            {
                throw new ZoneException(ZoneError.ReadOnly, $"{_path} is open read-only");
            }

            _memory.Span(AreaOffset(slot), _geometry.RingBytes).Clear();
        }
    }

    /// <summary>The record for writing inside a change (journalled whole).</summary>
    internal ref SgzPeer ForWrite(int slot)
    {
        Check(slot);
        return ref _writer.RecordForWrite<SgzPeer>(RecordOffset(slot));
    }

    internal void Check(int slot)
    {
        if (slot < 0 || (uint)slot >= _geometry.MaxPeers)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"peer slot {slot} is outside the zone's table (0..{_geometry.MaxPeers - 1})");
        }
    }

    private readonly record struct Known(bool Live, ulong Pid, ulong SinceNs);

    private ulong RecordOffset(int slot) => _geometry.PeerTable.Offset + ((ulong)slot * SgzAbi.PeerSize);
}
