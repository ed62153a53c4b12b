using System.Runtime.InteropServices;
using Stargate.Interop.Abi;

namespace Stargate.IntegrationTests.Host;

/// <summary>
/// The zone's metadata read straight from the zone file through the generated ABI structs
/// (Stargate.Interop.Abi, from stargate_zone.h), for tests that corrupt exactly one thing:
/// the superblock, an inode, the page-table entry that maps a file offset.
/// </summary>
public static class ZoneTables
{
    public const ulong InodeCrcOffset = 124;

    public static SgzSuperblock Superblock(TestZone zone) => Read<SgzSuperblock>(zone, 0);

    /// <summary>The zone offset of inode @ino's record.</summary>
    public static ulong InodeOffset(TestZone zone, ulong ino) =>
        Superblock(zone).InodeTable.Offset + (ino * SgzAbi.InodeSize);

    public static SgzInode Inode(TestZone zone, ulong ino) => Read<SgzInode>(zone, InodeOffset(zone, ino));

    /// <summary>
    /// The zone offset of the leaf entry (a 4 KiB PTE, or a 2 MiB PMD leaf) of inode @ino's
    /// page table that maps @fileOffset; throws if the walk meets a hole.
    /// </summary>
    public static ulong LeafEntryOffset(TestZone zone, ulong ino, ulong fileOffset)
    {
        var inode = Inode(zone, ino);
        ulong node = inode.PtRoot;
        for (int level = inode.PtDepth; level >= 1; level--)
        {
            int shift = SgzAbi.PageShift + (9 * (level - 1));
            ulong at = node + (((fileOffset >> shift) % SgzAbi.PtEntries) * 8);
            ulong entry = zone.ReadU64(at);
            if ((entry & SgzAbi.PtePresent) == 0)
            {
                throw new InvalidOperationException($"inode {ino}: offset {fileOffset} is in a hole (level {level} entry at 0x{at:x})");
            }

            if (level == 1 || (entry & SgzAbi.PteHuge) != 0)
            {
                return at;
            }

            node = entry & SgzAbi.PteAddrMask;
        }

        throw new InvalidOperationException($"inode {ino} has no page table");
    }

    private static T Read<T>(TestZone zone, ulong offset)
        where T : unmanaged
    {
        using var file = File.OpenHandle(zone.Path);
        var bytes = new byte[Marshal.SizeOf<T>()];
        RandomAccess.Read(file, bytes, (long)offset);
        return MemoryMarshal.Read<T>(bytes);
    }
}
