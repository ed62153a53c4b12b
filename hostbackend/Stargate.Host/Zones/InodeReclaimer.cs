namespace Stargate.Host.Zones;

/// <summary>
/// Frees an inode and everything it holds, in the order that leaves no dangling reference:
/// its lock records, its pages and page-table nodes, its xattr block, then its record and bitmap bit (the
/// generation stays, so old handles go stale). Inside a change, with the zone's lock held.
/// </summary>
internal sealed class InodeReclaimer(InodeTable inodes, PageTables tables, LockTable locks, Xattrs xattrs)
{
    public void Free(ulong ino)
    {
        locks.DropInodeLocks(ino);
        tables.FreeFrom(ino, 0);
        xattrs.FreeBlock(ino);
        inodes.Release(ino);
    }
}
