using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zone;

/// <summary>
/// Structural changes. Every write to zone structure happens inside
/// <see cref="Change{T}(Func{T})"/> and through one of the *ForWrite accessors,
/// which journal the bytes first. On any exception the change is undone; on
/// success the inodes it touched get their crc, change counter and even seq.
/// </summary>
public sealed partial class Zone
{
    private const int SeqTakeMs = 1000;
    private const int RepairSeqTakeMs = 100;

    /// <summary>Where seq lies in an inode record.</summary>
    private static readonly int SeqOffset = (int)Marshal.OffsetOf<SgzInode>(nameof(SgzInode.Seq));

    /// <summary>The bytes of an inode that a change journals: all before the lock word's line.</summary>
    private static readonly int InodeJournalled = (int)Marshal.OffsetOf<SgzInode>(nameof(SgzInode.Lock));

    private ChangeState? _change;

    internal void Change(Action body) => Change(() =>
    {
        body();
        return 0;
    });

    /// <summary>Runs <paramref name="body"/> as one atomic change; nested calls join the outer change.</summary>
    internal T Change<T>(Func<T> body)
    {
        if (!IsWritable)
        {
            throw new ZoneException(ZoneError.ReadOnly, $"{Path} is open read-only");
        }

        if (_change is not null)
        {
            return body();
        }

        _journal!.Begin();
        var state = new ChangeState();
        _change = state;
        List<ZoneRegion> toZero;
        T result;
        try
        {
            result = body();
            ApplyDeferredFrees();
            FinishInodes();

            _journal.Commit();
            toZero = _change.ToZero;
            _change = null;
        }
        catch (SimulatedCrashException)
        {
            _change = null;
            throw;
        }
        catch
        {
            _change = null;
            _journal.Rollback(Path);
            BumpSeqAfterUndo(state.DirtyInodes);
            _lockIndex = null; // the undo brought back records the index had let go of
            throw;
        }

        foreach (var range in toZero)
        {
            ZeroRange(range.Offset, range.Size);
        }

        return result;
    }

    /// <summary>The superblock, with its running-state half journalled: changes write only that half.</summary>
    internal ref SgzSuperblock SuperblockForWrite()
    {
        CurrentChange();
        ulong state = SgzAbi.SuperblockCrcOffset + 4;
        _journal!.Protect(state, SgzAbi.SuperblockSize - state);
        return ref Superblock;
    }

    /// <summary>
    /// The inode, journalled and with its seqcount held (odd) for the rest of the change.
    /// Guests take the seqcount too (cmpxchg even to odd around their size and mtime
    /// stores), so the host takes it the same way, waiting a bounded time for a guest that
    /// holds it; a guest that keeps it longer fails the change with Busy (and it is undone).
    /// </summary>
    internal ref SgzInode InodeForWrite(ulong ino)
    {
        var change = CurrentChange();
        CheckInodeNumber(ino);
        ref var inode = ref _memory.Ref<SgzInode>(Geometry.InodeOffset(ino));
        if (!change.DirtyInodes.Contains(ino))
        {
            TakeSeq(ino);
            change.DirtyInodes.Add(ino);
        }

        return ref inode;
    }

    /// <summary>
    /// Journals an inode and makes its even seq odd. The journal first saves a copy taken
    /// at an even seq, then a compare-and-swap from that seq takes it: if a guest moved the
    /// seq in between, the record is taken back and both steps run again. So whenever a
    /// writer dies, the journal holds the inode as it was with an even seq, and an undo
    /// frees the seqcount. Only the lines before the lock word are saved: the lock word is
    /// changed by guests at any time and no change writes it.
    /// </summary>
    private void TakeSeq(ulong ino)
    {
        ulong at = Geometry.InodeOffset(ino);
        ref uint seq = ref _memory.Ref<SgzInode>(at).Seq;
        Span<byte> saved = stackalloc byte[InodeJournalled];
        long deadline = Environment.TickCount64 + (_repairing ? RepairSeqTakeMs : SeqTakeMs);
        for (int spin = 0; ; spin++)
        {
            uint found = Volatile.Read(ref seq);
            if ((found & 1) == 0)
            {
                _memory.Span(at, (ulong)saved.Length).CopyTo(saved);
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref seq) == found)
                {
                    ulong mark = _journal!.Mark;
                    _journal.ProtectAs(at, saved);
                    if (Interlocked.CompareExchange(ref seq, found | 1, found) == found)
                    {
                        return;
                    }

                    _journal.DropSince(mark, at, (ulong)saved.Length);
                }
            }

            if (spin % 64 == 63 && Environment.TickCount64 > deadline)
            {
                if (_repairing)
                {
                    // fsck --repair: a seq that stays odd this long is garbage or a dead writer's; take it as found.
                    uint stuck = Volatile.Read(ref seq) | 1;
                    _memory.Span(at, (ulong)saved.Length).CopyTo(saved);
                    MemoryMarshal.Write(saved[SeqOffset..], stuck + 1);
                    _journal!.ProtectAs(at, saved);
                    Volatile.Write(ref seq, stuck);
                    return;
                }

                throw new ZoneException(ZoneError.Busy,
                    $"{Path}: inode {ino}: a guest has held its seqcount (seq {Volatile.Read(ref seq)}) for over {SeqTakeMs} ms; the change was not made");
            }

            Thread.SpinWait(32);
        }
    }

    /// <summary>After an undo restored the seq the change found, moves it on so a reader that copied mid-change retries.</summary>
    private void BumpSeqAfterUndo(IEnumerable<ulong> inodes)
    {
        foreach (ulong ino in inodes)
        {
            ref uint seq = ref _memory.Ref<SgzInode>(Geometry.InodeOffset(ino)).Seq;
            uint now = Volatile.Read(ref seq);
            if ((now & 1) == 0)
            {
                Interlocked.CompareExchange(ref seq, now + 2, now);
            }
        }
    }

    internal ref ulong U64ForWrite(ulong offset)
    {
        CurrentChange();
        _journal!.Protect(offset, 8);
        return ref _memory.Ref<ulong>(offset);
    }

    internal ref ushort U16ForWrite(ulong offset)
    {
        CurrentChange();
        _journal!.Protect(offset, 2);
        return ref _memory.Ref<ushort>(offset);
    }

    internal Span<byte> BytesForWrite(ulong offset, ulong length)
    {
        CurrentChange();
        _journal!.Protect(offset, length);
        return _memory.Span(offset, length);
    }

    private ChangeState CurrentChange() =>
        _change ?? throw new InvalidOperationException("zone structure written outside a change");

    private void FinishInodes()
    {
        foreach (ulong ino in _change!.DirtyInodes)
        {
            ref var inode = ref _memory.Ref<SgzInode>(Geometry.InodeOffset(ino));
            if (inode.Mode != 0)
            {
                inode.Crc = InodeCrc(inode);
            }

            inode.Change++;
            Volatile.Write(ref inode.Seq, (inode.Seq | 1) + 1);
        }
    }

    /// <summary>
    /// Zeroes freed space so that the zone's free space always reads as zeros:
    /// whole chunks are punched out of the file (memory goes back to the host),
    /// anything smaller, or a file system that cannot punch, is cleared in place.
    /// </summary>
    private void ZeroRange(ulong offset, ulong length)
    {
        if (offset % ZoneGeometry.ChunkSize == 0 && length % ZoneGeometry.ChunkSize == 0)
        {
            int fd = (int)_file.DangerousGetHandle();
            if (Sys.Try(() => Libc.Fallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, (long)offset, (long)length)) == 0)
            {
                return;
            }
        }

        for (ulong done = 0; done < length;)
        {
            ulong n = Math.Min(length - done, 1UL << 30);
            var span = _memory.Span(offset + done, n);
            if (span.ContainsAnyExcept((byte)0))
            {
                span.Clear();
            }

            done += n;
        }
    }

    /// <summary>The state of one change: what it dirtied and what it frees at its end.</summary>
    private sealed class ChangeState
    {
        public HashSet<ulong> DirtyInodes { get; } = [];

        /// <summary>Data pages to free when the body is done, so the body cannot reuse them before they are zeroed.</summary>
        public List<(ulong FirstPage, ulong Count)> DeferredFrees { get; } = [];

        public List<ZoneRegion> ToZero { get; } = [];
    }
}
