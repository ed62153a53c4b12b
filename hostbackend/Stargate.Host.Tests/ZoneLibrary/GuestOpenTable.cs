using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// A guest's open table in the zone (docs/requests.md "Unlinked but open"), written as the
/// guest module writes it: one (ino, generation, count) entry per open inode in its peer
/// slot's area, the slot marked live. What the zone's orphan rule reads, for every caller.
/// </summary>
internal sealed class GuestOpenTable
{
    private readonly Zone _zone;
    private readonly int _slot;

    public GuestOpenTable(Zone zone, int slot = 2)
    {
        _zone = zone;
        _slot = slot;
        Assert.True(zone.Peers.HasAreas, "the zone has no ring areas to hold an open table");
        zone.Peers.Set(slot, live: true, pid: 1);
    }

    /// <summary>The guest opens <paramref name="node"/> (a new entry with count 1).</summary>
    public void Open(NodeRef node)
    {
        for (ulong i = 0; i < SgzAbi.OpenEntries; i++)
        {
            ref var entry = ref _zone.Memory.Ref<SgzOpen>(Entry(i));
            if (entry.Count == 0)
            {
                entry.Ino = node.Ino;
                entry.Generation = node.Generation;
                Volatile.Write(ref entry.Count, 1u);
                return;
            }
        }

        Assert.Fail("the open table is full");
    }

    /// <summary>The guest closes everything it had open.</summary>
    public void CloseAll() => _zone.Memory.Span(Entry(0), SgzAbi.OpenEntries * SgzAbi.OpenSize).Clear();

    private ulong Entry(ulong i) => _zone.Peers.AreaOffset(_slot) + SgzAbi.RingOpens + (i * SgzAbi.OpenSize);
}
