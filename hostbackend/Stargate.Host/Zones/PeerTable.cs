using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The peer table (struct sgz_peer) and the peers' ring areas: who is attached to the zone,
/// for guests to read and for the host to clean up after. Slot = ivshmem id; slot 0 is the
/// host service. Only the host writes the table, in journalled changes; a slot outside
/// 0..max_peers-1 is refused before anything is read. Public members take the zone's lock.
/// </summary>
public sealed class PeerTable
{
    private readonly string _path;
    private readonly ZoneMemory _memory;
    private readonly ZoneGeometry _geometry;
    private readonly ZoneWriter _writer;
    private readonly Lock _gate;

    internal PeerTable(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, Lock gate)
    {
        _path = path;
        _memory = memory;
        _geometry = geometry;
        _writer = writer;
        _gate = gate;
    }

    /// <summary>Whether the zone's ring areas can hold the layout of stargate_zone.h for every peer slot (older or tiny zones cannot).</summary>
    public bool HasAreas => _geometry.RingBytes >= SgzAbi.RingBytes && _geometry.Rings.Size / _geometry.RingBytes >= _geometry.MaxPeers;

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
            _writer.Change(() =>
            {
                ref var peer = ref ForWrite(slot);
                peer.State = live ? (uint)SgzAbi.PeerLive : (uint)SgzAbi.PeerFree;
                peer.Ivposition = (uint)slot;
                peer.Pid = live ? pid : 0;
                peer.SinceNs = live ? ZoneClock.NowNs() : 0;
                peer.Heartbeat = 0;
            });
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
                if (Record(slot).State != SgzAbi.PeerFree)
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
            if (Volatile.Read(ref _memory.Ref<SgzPeer>(RecordOffset(slot)).State) == SgzAbi.PeerLive)
            {
                live.Add(slot);
            }
        }

        return live;
    }

    /// <summary>Where slot <paramref name="slot"/>'s ring area starts (rings.offset + slot * ring_bytes).</summary>
    public ulong AreaOffset(int slot)
    {
        Check(slot);
        return _geometry.RingAreaOffset(slot);
    }

    /// <summary>Zeroes a peer's ring area (request and reply rings, open table): runtime state, not journalled.</summary>
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

    private ulong RecordOffset(int slot) => _geometry.PeerTable.Offset + ((ulong)slot * SgzAbi.PeerSize);
}
