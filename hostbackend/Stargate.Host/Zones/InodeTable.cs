using System.Numerics;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The inode table and its bitmap. Inode numbers index the table; a set bit in the inode
/// bitmap marks a used inode, and the superblock's free_inodes counts the clear ones. The
/// host half of each record is checked against its crc on every load; a copy is taken under
/// the seqcount so that a guest changing the other half at the same time cannot tear it.
/// Called with the zone's lock held.
/// </summary>
internal sealed class InodeTable(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer)
{
    /// <summary>How long a reader waits for an odd seq to become even (a guest holds it for a few stores).</summary>
    public const int SeqLoadMs = 100;

    /// <summary>The crc seals the bytes before it (the host half): its offset comes from the header.</summary>
    private static readonly int Sealed = (int)Marshal.OffsetOf<SgzInode>(nameof(SgzInode.Crc));

    /// <summary>Inode numbers are 1..Count-1 (0 is never used).</summary>
    public ulong Count => geometry.InodeCount;

    public ReadOnlySpan<ulong> Bitmap => memory.Span<ulong>(geometry.InodeBitmap.Offset, (geometry.InodeCount + 63) / 64);

    public static unsafe uint Crc(in SgzInode inode)
    {
        fixed (SgzInode* p = &inode)
        {
            return Crc32C.Compute(new ReadOnlySpan<byte>(p, Sealed));
        }
    }

    public static bool IsDirectory(in SgzInode inode) => (inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfdir;

    /// <summary>The directory-entry type of a mode.</summary>
    public static byte TypeOf(uint mode) => (mode & SgzAbi.SIfmt) switch
    {
        SgzAbi.SIfdir => SgzAbi.DtDir,
        SgzAbi.SIfreg => SgzAbi.DtReg,
        SgzAbi.SIflnk => SgzAbi.DtLnk,
        SgzAbi.SIfifo => SgzAbi.DtFifo,
        SgzAbi.SIfchr => SgzAbi.DtChr,
        SgzAbi.SIfblk => SgzAbi.DtBlk,
        SgzAbi.SIfsock => SgzAbi.DtSock,
        _ => 0,
    };

    public bool IsUsed(ulong ino) => ((Bitmap[(int)(ino / 64)] >> (int)(ino % 64)) & 1) != 0;

    /// <summary>Every inode number the bitmap marks used, root included, in rising order.</summary>
    public IEnumerable<ulong> Used()
    {
        int words = Bitmap.Length;
        for (int w = 0; w < words; w++)
        {
            for (ulong bits = Bitmap[w]; bits != 0; bits &= bits - 1)
            {
                ulong ino = ((ulong)w * 64) + (ulong)BitOperations.TrailingZeroCount(bits);
                if (ino != 0 && ino < geometry.InodeCount)
                {
                    yield return ino;
                }
            }
        }
    }

    /// <summary>The live record (for its atomically changed words: seq, lock).</summary>
    public ref SgzInode Live(ulong ino) => ref memory.Ref<SgzInode>(geometry.InodeOffset(ino));

    /// <summary>Inode <paramref name="ino"/>'s hint in Z.data: guest-written, never trusted (the caller has checked the number).</summary>
    public ref SgzHint Hint(ulong ino) => ref memory.Ref<SgzHint>(geometry.HintOffset(ino));

    /// <summary>The record for writing inside a change: journalled, its seqcount held.</summary>
    public ref SgzInode ForWrite(ulong ino)
    {
        CheckNumber(ino);
        return ref writer.InodeForWrite(ino);
    }

    /// <summary>A consistent copy of inode <paramref name="ino"/>, crc checked unless this change is writing it.</summary>
    public SgzInode Load(ulong ino)
    {
        CheckNumber(ino);
        ulong at = geometry.InodeOffset(ino);
        ref var live = ref memory.Ref<SgzInode>(at);
        if (writer.IsDirty(ino))
        {
            return live;
        }

        int waitMs = writer.SeqWaitMs;
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
                    if (copy.Mode != 0 && Crc(copy) != copy.Crc)
                    {
                        throw new ZoneCorruptException(
                            $"{path}: inode {ino} at zone offset 0x{at:x}: checksum mismatch (stored 0x{copy.Crc:x8}, computed 0x{Crc(copy):x8}); run 'stargate zone fsck'");
                    }

                    return copy;
                }
            }

            Thread.SpinWait(16);
        }

        if (writer.IsWritable)
        {
            // This process is the zone's only host writer: the holder is a guest (or garbage).
            throw new GuestHoldsException($"{path}: inode {ino} at zone offset 0x{at:x} stays mid-change (seq {live.Seq}) for over {waitMs} ms: a guest holds its seqcount");
        }

        throw new ZoneCorruptException($"{path}: inode {ino} at zone offset 0x{at:x} stays mid-change (seq {live.Seq}): a guest holds it, or its writer died mid-change (then any writing command, or 'stargate zone fsck --repair', undoes the change)");
    }

    /// <summary>An inode that must be in use (reached through a directory entry or a handle).</summary>
    public SgzInode LoadLive(ulong ino)
    {
        var inode = Load(ino);
        if (inode.Mode == 0 || !IsUsed(ino))
        {
            throw new ZoneCorruptException($"{path}: inode {ino} is referenced but free");
        }

        if (inode.PtDepth > SgzAbi.PtMaxDepth)
        {
            throw new ZoneCorruptException($"{path}: inode {ino}: page-table depth {inode.PtDepth} exceeds {SgzAbi.PtMaxDepth}");
        }

        // Size lives in the half guests write: bound it before any loop runs on it.
        if (inode.Size > SgzAbi.FileSizeMax)
        {
            throw new ZoneCorruptException($"{path}: inode {ino}: size {inode.Size} exceeds the largest file, {Units.Bytes(SgzAbi.FileSizeMax)}; run 'stargate zone fsck'");
        }

        if (IsDirectory(inode) && (inode.Size % ZoneGeometry.PageSize != 0 || inode.Size / ZoneGeometry.PageSize > inode.Pages))
        {
            throw new ZoneCorruptException($"{path}: directory inode {ino}: size {inode.Size} does not match its {inode.Pages} pages; run 'stargate zone fsck'");
        }

        return Effective(ino, inode);
    }

    /// <summary>
    /// A regular file's effective size, mtime, ctime and change: the inode's, raised by its
    /// hint when a read of the hint (at most three, never waiting) sees an even, unmoved seq
    /// and the inode's generation. The size is raised only up to alloc_end, so a forged hint
    /// can never reach past the file's allocation, and the times only by a hint's time less
    /// than SGZ_CLOCK_LEAD_MAX_NS ahead of the host's clock (a later one is forged). Inside a change that wrote the inode the
    /// inode alone is the truth (a fold has taken the hint in).
    /// </summary>
    public SgzInode Effective(ulong ino, SgzInode inode)
    {
        if ((inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIfreg || writer.IsDirty(ino) || !TryReadHint(ino, inode.Generation, out var hint))
        {
            return inode;
        }

        inode.Size = Math.Max(inode.Size, Math.Min(hint.Size, Math.Min(inode.AllocEnd, SgzAbi.FileSizeMax)));
        ulong latest = ZoneClock.NowNs() + SgzAbi.ClockLeadMaxNs;
        inode.MtimeNs = Math.Max(inode.MtimeNs, hint.MtimeNs < latest ? hint.MtimeNs : 0);
        inode.CtimeNs = Math.Max(inode.CtimeNs, hint.CtimeNs < latest ? hint.CtimeNs : 0);
        inode.Change += hint.Change;
        return inode;
    }

    /// <summary>
    /// The ctime a change to <paramref name="ino"/> gives it: now, or one nanosecond past its
    /// effective ctime when that is later (a guest's clock ahead of the host's wrote it into
    /// the hint), so that every change moves ctime; but now when that ctime is more than
    /// SGZ_CLOCK_LEAD_MAX_NS ahead (a forged hint: no guest may push a file's times out of
    /// reach of every later change). Call it before the change writes the inode.
    /// </summary>
    public ulong ChangeTime(ulong ino)
    {
        ulong now = ZoneClock.NowNs();
        ulong ctime = Effective(ino, Load(ino)).CtimeNs;
        return ctime >= now && ctime - now < SgzAbi.ClockLeadMaxNs ? ctime + 1 : now;
    }

    /// <summary>
    /// The host's fold, first in a change and while it holds the inode's lock word until the
    /// change ends (so no guest publishes meanwhile): writes the effective values into the
    /// inode, and once the change has committed (never if it is undone, or the host dies in
    /// it) sets the hint's generation to 0, so that it is ignored until a guest publishes again.
    /// </summary>
    public void Fold(ulong ino)
    {
        var inode = Load(ino);
        if (writer.IsDirty(ino) || inode.Mode == 0)
        {
            return;
        }

        var effective = Effective(ino, inode);
        if (effective.Size == inode.Size && effective.MtimeNs == inode.MtimeNs && effective.CtimeNs == inode.CtimeNs && effective.Change == inode.Change)
        {
            return;
        }

        ref var w = ref ForWrite(ino);
        w.Size = effective.Size;
        w.MtimeNs = effective.MtimeNs;
        w.CtimeNs = effective.CtimeNs;
        w.Change = effective.Change;
        writer.AfterCommit(() => Volatile.Write(ref Hint(ino).Generation, 0));
    }

    /// <summary>Reads a hint at most three times; true with a consistent copy that names <paramref name="generation"/>.</summary>
    private bool TryReadHint(ulong ino, uint generation, out SgzHint hint)
    {
        ref var live = ref Hint(ino);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            uint seq = Volatile.Read(ref live.Seq);
            if ((seq & 1) != 0)
            {
                continue;
            }

            hint = live;
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref live.Seq) == seq)
            {
                return generation != 0 && hint.Generation == generation;
            }
        }

        hint = default;
        return false;
    }

    /// <summary>An inode that must be live and of the generation the caller knows (else Stale).</summary>
    public SgzInode LoadNode(NodeRef node)
    {
        if (node.Ino == 0 || node.Ino >= geometry.InodeCount)
        {
            throw new ZoneException(ZoneError.Stale, $"inode {node.Ino} is outside the table (1..{geometry.InodeCount - 1})");
        }

        var inode = Load(node.Ino);
        if (inode.Mode == 0 || !IsUsed(node.Ino))
        {
            throw new ZoneException(ZoneError.Stale, $"inode {node.Ino} is free");
        }

        if (inode.Generation != node.Generation)
        {
            throw new ZoneException(ZoneError.Stale, $"inode {node.Ino} is at generation {inode.Generation}, not {node.Generation}");
        }

        return LoadLive(node.Ino);
    }

    /// <summary>Takes a free inode and initializes it (a new generation); inside a change.</summary>
    public ulong Allocate(uint mode, uint uid, uint gid, ulong parent)
    {
        ref var sb = ref memory.Ref<SgzSuperblock>(0);
        if (sb.FreeInodes == 0)
        {
            throw new ZoneException(ZoneError.NoSpace, $"{path}: no free inodes left (all {geometry.InodeCount - 1} in use)");
        }

        ulong ino = FindFree(sb.InodeHint);
        ref ulong word = ref writer.U64ForWrite(geometry.InodeBitmap.Offset + (ino / 64 * 8));
        word |= 1UL << (int)(ino % 64);
        ref var inode = ref ForWrite(ino);
        uint generation = inode.Generation + 1;
        Blank(ref inode, generation);
        inode.Mode = mode;
        inode.Uid = uid;
        inode.Gid = gid;
        inode.Parent = parent;
        ulong now = ZoneClock.NowNs();
        inode.BtimeNs = inode.MtimeNs = inode.CtimeNs = inode.AtimeNs = now;
        ref var w = ref writer.SuperblockForWrite();
        w.FreeInodes--;
        w.InodeHint = ino + 1 < geometry.InodeCount ? ino + 1 : SgzAbi.RootIno + 1;
        return ino;
    }

    /// <summary>Blanks the record and clears its bitmap bit; inside a change. The caller has freed what it held.</summary>
    public void Release(ulong ino)
    {
        ClearRecord(ino);
        ref ulong word = ref writer.U64ForWrite(geometry.InodeBitmap.Offset + (ino / 64 * 8));
        word &= ~(1UL << (int)(ino % 64));
        writer.SuperblockForWrite().FreeInodes++;
    }

    /// <summary>Blanks an inode record (keeping its generation) without walking its table; fsck --repair uses it alone.</summary>
    public void ClearRecord(ulong ino)
    {
        ref var inode = ref ForWrite(ino);
        Blank(ref inode, inode.Generation);
    }

    public void CheckNumber(ulong ino)
    {
        if (ino == 0 || ino >= geometry.InodeCount)
        {
            throw new ZoneCorruptException($"{path}: inode number {ino} is outside the table (1..{geometry.InodeCount - 1})");
        }
    }

    /// <summary>Zeroes a record but the words that outlive an inode: seq and change (the seqcount).</summary>
    private static void Blank(ref SgzInode inode, uint generation)
    {
        uint seq = inode.Seq;
        ulong change = inode.Change;
        inode = default;
        inode.Seq = seq;
        inode.Change = change;
        inode.Generation = generation;
    }

    private ulong FindFree(ulong hint)
    {
        var bitmap = Bitmap;
        ulong count = geometry.InodeCount;
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

        throw new ZoneCorruptException($"{path}: superblock counts {memory.Ref<SgzSuperblock>(0).FreeInodes} free inodes but the inode bitmap has none");
    }
}
