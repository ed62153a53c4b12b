using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The open tables of the live guests (docs/requests.md "Unlinked but open"): the one
/// place that decides whether an unlinked regular file is still open somewhere, for every
/// caller (a guest's request, the command line, fsck), so an unlink obeys one rule. The
/// tables are guest-written and untrusted; an entry only keeps an inode that it names
/// exactly (number and generation) with a count, so garbage can at worst keep an orphan
/// alive, never free a file someone holds. The tables are in the guests' private areas
/// (<see cref="GuestAreas"/>); a live guest whose area cannot be found has nothing open.
/// Files open on this process's host mounts count too.
/// Called with the zone's lock held.
/// </summary>
internal sealed class OpenTables(GuestAreas areas, PeerTable peers)
{
    /// <summary>
    /// The files this process opened through a host mount (ZoneMount), by inode and generation,
    /// with their counts: in this writer's memory only, as they end with it (a new writer
    /// frees the orphans they kept, Orphans.FreeUnheld).
    /// </summary>
    private readonly Dictionary<(ulong Ino, uint Generation), int> _host = [];

    public void HostOpened(ulong ino, uint generation) =>
        _host[(ino, generation)] = _host.GetValueOrDefault((ino, generation)) + 1;

    public void HostClosed(ulong ino, uint generation)
    {
        int left = _host.GetValueOrDefault((ino, generation)) - 1;
        if (left > 0)
        {
            _host[(ino, generation)] = left;
        }
        else
        {
            _host.Remove((ino, generation));
        }
    }

    public bool IsOpenAnywhere(ulong ino, uint generation)
    {
        if (_host.ContainsKey((ino, generation)))
        {
            return true;
        }

        foreach (int slot in peers.LiveGuests())
        {
            if (areas.Find(slot) is not { } area)
            {
                continue;
            }

            ulong table = AreaMemory.Ring + SgzAbi.RingOpens;
            for (ulong i = 0; i < SgzAbi.OpenEntries; i++)
            {
                var entry = area.Ref<SgzOpen>(table + (i * SgzAbi.OpenSize));
                if (entry.Count > 0 && entry.Ino == ino && entry.Generation == generation)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
