using Stargate.Interop.Abi;

namespace Stargate.Host.Rpc;

/// <summary>
/// The open tables of the live guests (docs/requests.md "Unlinked but open"): what
/// decides whether an unlinked regular file is kept as an orphan or freed. The
/// tables are guest-written and untrusted; an entry only keeps an inode that it
/// names exactly (number and generation) with a count, so garbage can at worst
/// keep an orphan alive, never free a file someone holds.
/// </summary>
internal sealed class OpenTables(Zone.Zone zone)
{
    public bool IsOpenAnywhere(ulong ino, uint generation)
    {
        if (!RingArea.Fits(zone.Geometry))
        {
            return false;
        }

        foreach (int slot in LiveGuests(zone))
        {
            var area = RingArea.Of(zone.Geometry, slot);
            for (int i = 0; i < SgzAbi.OpenEntries; i++)
            {
                var entry = zone.Memory.Ref<SgzOpen>(area.Open(i));
                if (entry.Count > 0 && entry.Ino == ino && entry.Generation == generation)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Guest slots (1..max_peers-1) the peer table marks live: the ones whose areas are served and counted.</summary>
    public static IEnumerable<int> LiveGuests(Zone.Zone zone)
    {
        for (int slot = SgzAbi.HostPeerSlot + 1; slot < zone.Geometry.MaxPeers; slot++)
        {
            if (Volatile.Read(ref zone.PeerRecord(slot).State) == SgzAbi.PeerLive)
            {
                yield return slot;
            }
        }
    }
}
