using System.Numerics;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zone;

/// <summary>
/// The inode table. Inode numbers index the table; a set bit in the inode
/// bitmap marks a used inode. The host half of each record is checked against
/// its crc on every load; a copy is taken under the seqcount so that a guest
/// changing the other half at the same time cannot tear it.
/// </summary>
public sealed partial class Zone
{
    /// <summary>How long a reader waits for an odd seq to become even (a guest holds it for a few stores); the writer waits as long as a change does.</summary>
    private const int SeqLoadMs = 100;

    /// <summary>The crc seals the bytes before it (the host half): its offset comes from the header.</summary>
    private static readonly int InodeSealed = (int)Marshal.OffsetOf<SgzInode>(nameof(SgzInode.Crc));

    internal static unsafe uint InodeCrc(in SgzInode inode)
    {
        fixed (SgzInode* p = &inode)
        {
            return Crc32C.Compute(new ReadOnlySpan<byte>(p, InodeSealed));
        }
    }

    /// <summary>A consistent copy of inode <paramref name="ino"/>, crc checked unless this change is writing it.</summary>
    internal SgzInode LoadInode(ulong ino)
    {
        CheckInodeNumber(ino);
        ulong at = Geometry.InodeOffset(ino);
        ref var live = ref _memory.Ref<SgzInode>(at);
        if (_change?.DirtyInodes.Contains(ino) == true)
        {
            return live;
        }

        int waitMs = IsWritable && !_repairing ? SeqTakeMs : SeqLoadMs;
        long deadline = Environment.TickCount64 + waitMs;
        for (int attempt = 0; attempt < 1024 || Environment.TickCount64 <= deadline; attempt++)
        {
            uint seq = Volatile.Read(ref live.Seq);
            if ((seq & 1) == 0)
            {
                var copy = live;
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref live.Seq) == seq)
                {
                    if (copy.Mode != 0 && InodeCrc(copy) != copy.Crc)
                    {
                        throw new ZoneCorruptException(
                            $"{Path}: inode {ino} at zone offset 0x{at:x}: checksum mismatch (stored 0x{copy.Crc:x8}, computed 0x{InodeCrc(copy):x8}); run 'stargate zone fsck'");
                    }

                    return copy;
                }
            }

            Thread.SpinWait(16);
        }

        if (IsWritable)
        {
            // This process is the zone's only host writer: the holder is a guest (or garbage).
            throw new ZoneException(ZoneError.Busy, $"{Path}: inode {ino} at zone offset 0x{at:x} stays mid-change (seq {live.Seq}) for over {waitMs} ms: a guest holds its seqcount");
        }

        throw new ZoneCorruptException($"{Path}: inode {ino} at zone offset 0x{at:x} stays mid-change (seq {live.Seq}): a guest holds it, or its writer died mid-change (then any writing command, or 'stargate zone fsck --repair', undoes the change)");
    }

    /// <summary>An inode that must be in use (reached through a directory entry or a handle).</summary>
    internal SgzInode LoadLiveInode(ulong ino)
    {
        var inode = LoadInode(ino);
        if (inode.Mode == 0 || !IsInodeUsed(ino))
        {
            throw new ZoneCorruptException($"{Path}: inode {ino} is referenced but free");
        }

        if (inode.PtDepth > SgzAbi.PtMaxDepth)
        {
            throw new ZoneCorruptException($"{Path}: inode {ino}: page-table depth {inode.PtDepth} exceeds {SgzAbi.PtMaxDepth}");
        }

        // Size lives in the half guests write: bound it before any loop runs on it.
        if (inode.Size > MaxFileSize)
        {
            throw new ZoneCorruptException($"{Path}: inode {ino}: size {inode.Size} exceeds the largest file, {Units.Bytes(MaxFileSize)}; run 'stargate zone fsck'");
        }

        if (IsDirectory(inode) && (inode.Size % ZoneGeometry.PageSize != 0 || inode.Size / ZoneGeometry.PageSize > inode.Pages))
        {
            throw new ZoneCorruptException($"{Path}: directory inode {ino}: size {inode.Size} does not match its {inode.Pages} pages; run 'stargate zone fsck'");
        }

        return inode;
    }

    public InodeInfo StatInode(ulong ino)
    {
        lock (Sync)
        {
            return InodeInfo.From(ino, LoadLiveInode(ino));
        }
    }

    internal bool IsInodeUsed(ulong ino) => ((InodeBitmap[(int)(ino / 64)] >> (int)(ino % 64)) & 1) != 0;

    /// <summary>Takes a free inode and initializes it; inside a change.</summary>
    internal ulong AllocateInode(uint mode, uint uid, uint gid, ulong parent)
    {
        ref var sb = ref Superblock;
        if (sb.FreeInodes == 0)
        {
            throw new ZoneException(ZoneError.NoSpace, $"{Path}: no free inodes left (all {Geometry.InodeCount - 1} in use)");
        }

        ulong ino = FindFreeInode(sb.InodeHint);
        ref ulong word = ref U64ForWrite(Geometry.InodeBitmap.Offset + (ino / 64 * 8));
        word |= 1UL << (int)(ino % 64);
        ref var inode = ref InodeForWrite(ino);
        uint generation = inode.Generation + 1;
        uint seq = inode.Seq;
        ulong change = inode.Change;
        ulong lockWord = inode.Lock;
        inode = default;
        inode.Seq = seq;
        inode.Change = change;
        inode.Lock = lockWord;
        inode.Generation = generation;
        inode.Mode = mode;
        inode.Uid = uid;
        inode.Gid = gid;
        inode.Parent = parent;
        ulong now = ZoneClock.NowNs();
        inode.BtimeNs = inode.MtimeNs = inode.CtimeNs = inode.AtimeNs = now;
        ref var w = ref SuperblockForWrite();
        w.FreeInodes--;
        w.InodeHint = ino + 1 < Geometry.InodeCount ? ino + 1 : SgzAbi.RootIno + 1;
        return ino;
    }

    /// <summary>Frees an inode and everything it holds; inside a change. Keeps the generation.</summary>
    internal void FreeInode(ulong ino)
    {
        DropInodeLocks(ino);
        FreeFrom(ino, 0);
        ClearInodeRecord(ino);
        ref ulong word = ref U64ForWrite(Geometry.InodeBitmap.Offset + (ino / 64 * 8));
        word &= ~(1UL << (int)(ino % 64));
        SuperblockForWrite().FreeInodes++;
    }

    /// <summary>fsck --repair: blanks an inode record (keeping its generation) without walking its table.</summary>
    internal void ClearInodeRecord(ulong ino)
    {
        ref var inode = ref InodeForWrite(ino);
        uint generation = inode.Generation;
        uint seq = inode.Seq;
        ulong change = inode.Change;
        ulong lockWord = inode.Lock;
        inode = default;
        inode.Generation = generation;
        inode.Seq = seq;
        inode.Change = change;
        inode.Lock = lockWord;
    }

    private ulong FindFreeInode(ulong hint)
    {
        var bitmap = InodeBitmap;
        ulong count = Geometry.InodeCount;
        ulong start = hint > SgzAbi.RootIno && hint < count ? hint : SgzAbi.RootIno + 1;
        foreach (var (from, to) in new[] { (start, count), (SgzAbi.RootIno + 1UL, start) })
        {
            for (ulong ino = from; ino < to;)
            {
                ulong free = ~bitmap[(int)(ino / 64)] >> (int)(ino % 64);
                if (free != 0)
                {
                    ulong found = ino + (ulong)BitOperations.TrailingZeroCount(free);
                    if (found < to)
                    {
                        return found;
                    }

                    break;
                }

                ino = (ino / 64 * 64) + 64;
            }
        }

        throw new ZoneCorruptException($"{Path}: superblock counts {Superblock.FreeInodes} free inodes but the inode bitmap has none");
    }

    private void CheckInodeNumber(ulong ino)
    {
        if (ino == 0 || ino >= Geometry.InodeCount)
        {
            throw new ZoneCorruptException($"{Path}: inode number {ino} is outside the table (1..{Geometry.InodeCount - 1})");
        }
    }
}
