using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// A guest's open table (docs/requests.md "Unlinked but open"), written as the guest module
/// writes it: one (ino, generation, count) entry per open inode in its private area, the slot
/// marked live. What the zone's orphan rule reads, for every caller.
/// </summary>
internal sealed class GuestOpenTable
{
    private readonly Zone _zone;
    private readonly int _slot;

    public GuestOpenTable(Zone zone, int slot = 2)
    {
        _zone = zone;
        _slot = slot;
        zone.Peers.Set(slot, live: true, pid: 1);
        zone.Areas.Create(slot, 0).Dispose();
    }

    /// <summary>The guest opens <paramref name="node"/> (a new entry with count 1).</summary>
    public void Open(NodeRef node)
    {
        for (ulong i = 0; i < SgzAbi.OpenEntries; i++)
        {
            ref var entry = ref Area.Ref<SgzOpen>(Entry(i));
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
    public void CloseAll() => Area.Span(Entry(0), SgzAbi.OpenEntries * SgzAbi.OpenSize).Clear();

    private AreaMemory Area => _zone.Areas.Find(_slot) ?? throw new InvalidOperationException($"guest {_slot} has no area");

    private static ulong Entry(ulong i) => AreaMemory.Ring + SgzAbi.RingOpens + (i * SgzAbi.OpenSize);
}
