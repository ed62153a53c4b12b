using Stargate.Interop.Abi;

namespace Stargate.Host.Zone;

/// <summary>
/// Orphans (docs/requests.md, "Unlinked but open"): regular files whose last name went
/// while a peer had them open. They keep their data with nlink 0 and SGZ_INODE_ORPHAN
/// until no live peer's open table names them.
/// </summary>
public sealed partial class Zone
{
    /// <summary>
    /// Inodes that may be orphans: filled by one scan of the inode table at first use, then
    /// kept up to date by this writer. A hint only (an undone change can leave a number that
    /// is no orphan), so every use checks the inode itself.
    /// </summary>
    private HashSet<ulong>? _orphanHint;

    public bool IsOrphan(ulong ino)
    {
        lock (Sync)
        {
            if (ino == 0 || ino >= Geometry.InodeCount || !IsInodeUsed(ino))
            {
                return false;
            }

            var inode = LoadInode(ino);
            return inode.Mode != 0 && (inode.Flags & SgzAbi.InodeOrphan) != 0;
        }
    }

    /// <summary>Frees, each in its own change, every orphan for which <paramref name="isOpen"/>(ino, generation) is false; returns how many.</summary>
    public int FreeOrphans(Func<ulong, uint, bool> isOpen)
    {
        lock (Sync)
        {
            var hint = KnownOrphans();
            int freed = 0;
            foreach (ulong ino in hint.ToArray())
            {
                SgzInode inode;
                try
                {
                    inode = IsInodeUsed(ino) ? LoadInode(ino) : default;
                }
                catch (ZoneException)
                {
                    continue; // a corrupt or busy inode waits for fsck or the next pass; the others are still freed
                }

                if (inode.Mode == 0 || (inode.Flags & SgzAbi.InodeOrphan) == 0 || inode.Nlink != 0 || (inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIfreg)
                {
                    hint.Remove(ino);
                    continue;
                }

                if (isOpen(ino, inode.Generation))
                {
                    continue;
                }

                Change(() => FreeInode(ino));
                hint.Remove(ino);
                freed++;
            }

            return freed;
        }
    }

    private HashSet<ulong> KnownOrphans()
    {
        if (_orphanHint is not null)
        {
            return _orphanHint;
        }

        var found = new HashSet<ulong>();
        var bitmap = InodeBitmap;
        for (int w = 0; w < bitmap.Length; w++)
        {
            for (ulong bits = bitmap[w]; bits != 0; bits &= bits - 1)
            {
                ulong ino = ((ulong)w * 64) + (ulong)System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (ino != 0 && ino < Geometry.InodeCount && (_memory.Ref<SgzInode>(Geometry.InodeOffset(ino)).Flags & SgzAbi.InodeOrphan) != 0)
                {
                    found.Add(ino);
                }
            }
        }

        return _orphanHint = found;
    }
}
