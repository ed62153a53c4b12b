using Stargate.Interop.Abi;

namespace Stargate.Host.Zone;

/// <summary>
/// The peer table (struct sgz_peer): who is attached to the zone, for guests to
/// read and for the host to clean up after. Slot = ivshmem id; slot 0 is the
/// host service. Only the host writes it, in journalled changes.
/// </summary>
public sealed partial class Zone
{
    /// <summary>Marks a peer live (with its ivshmem id and process) or free.</summary>
    public void SetPeer(int slot, bool live, ulong pid = 0)
    {
        if (slot < 0 || (uint)slot >= Geometry.MaxPeers)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"peer slot {slot} is outside the zone's table (0..{Geometry.MaxPeers - 1})");
        }

        lock (Sync)
        {
            Change(() =>
            {
                ref var peer = ref PeerForWrite(slot);
                peer.State = live ? (uint)SgzAbi.PeerLive : (uint)SgzAbi.PeerFree;
                peer.Ivposition = (uint)slot;
                peer.Pid = live ? pid : 0;
                peer.SinceNs = live ? ZoneClock.NowNs() : 0;
                peer.Heartbeat = 0;
            });
        }
    }

    /// <summary>Frees every guest slot marked live: at service start, none can be (their QEMUs reconnect).</summary>
    public int ClearStalePeers()
    {
        int cleared = 0;
        for (int slot = 1; slot < Geometry.MaxPeers; slot++)
        {
            if (PeerRecord(slot).State != SgzAbi.PeerFree)
            {
                SetPeer(slot, live: false);
                cleared++;
            }
        }

        return cleared;
    }
}
