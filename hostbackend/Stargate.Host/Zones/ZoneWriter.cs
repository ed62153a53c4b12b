using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// Structural changes: the one way zone structure is written. Every write happens inside
/// <see cref="Change{T}(Func{T})"/> and through one of the *ForWrite accessors, which journal
/// the bytes first. On any exception the change is undone (and every enlisted component told);
/// on success the inodes it touched get their crc, change counter and even seq, and the space
/// it freed is zeroed once the change has committed.
/// </summary>
/// <remarks>
/// Invariants it owns: no structure write outside a change; a change's inodes hold an odd
/// seq from their first write to its end; a change that throws leaves the zone byte for byte
/// as before it (in the structure file; in Z.data the hints, which guests change at any time,
/// are never journalled). Called with
/// the zone's lock held (every caller is a zone component).
/// </remarks>
internal sealed class ZoneWriter
{
    private const int RepairSeqTakeMs = 100;

    /// <summary>Where seq lies in an inode record.</summary>
    private static readonly int SeqOffset = (int)Marshal.OffsetOf<SgzInode>(nameof(SgzInode.Seq));

    /// <summary>The bytes of an inode that a change journals: all of it (only the host writes an inode).</summary>
    private const int InodeJournalled = SgzAbi.InodeSize;

    private readonly string _path;
    private readonly SafeFileHandle _file;
    private readonly SafeFileHandle _dataFile;
    private readonly ZoneMemory _memory;
    private readonly ZoneGeometry _geometry;
    private readonly Journal? _journal;
    private readonly List<IChangeParticipant> _participants = [];
    private ChangeState? _change;

    public ZoneWriter(string path, SafeFileHandle file, SafeFileHandle dataFile, ZoneMemory memory, ZoneGeometry geometry)
    {
        _path = path;
        _file = file;
        _dataFile = dataFile;
        _memory = memory;
        _geometry = geometry;
        if (memory.Writable)
        {
            _journal = new Journal(memory, geometry.Journal);
        }
    }

    public bool IsWritable => _memory.Writable;

    /// <summary>Opened by fsck --repair: a seqcount that stays odd is taken anyway (see TakeSeq), and readers wait less.</summary>
    public bool Repairing { get; set; }

    /// <summary>The journal of a writable zone.</summary>
    public Journal Journal => _journal ?? throw new ZoneException(ZoneError.ReadOnly, $"{_path} is open read-only");

    /// <summary>A component with state to fix at the end of every change (composition time only).</summary>
    public void Enlist(IChangeParticipant participant) => _participants.Add(participant);

    /// <summary>Whether the change in progress has written inode <paramref name="ino"/> (its live bytes are the truth, not crc-sealed yet).</summary>
    public bool IsDirty(ulong ino) => _change?.DirtyInodes.Contains(ino) == true;

    /// <summary>
    /// The change counter inode <paramref name="ino"/> will have once the change in progress
    /// commits, if the change has written it (a committed change raises the counter of every
    /// inode it wrote by exactly one: <see cref="FinishInodes"/>); 0 if it has not.
    /// </summary>
    public ulong ChangeOnCommit(ulong ino) =>
        CurrentChange().DirtyInodes.Contains(ino) ? _memory.Ref<SgzInode>(_geometry.InodeOffset(ino)).Change + 1 : 0;

    public void Change(Action body) => Change(() =>
    {
        body();
        return 0;
    });

    /// <summary>Runs <paramref name="body"/> as one atomic change; nested calls join the outer change.</summary>
    public T Change<T>(Func<T> body)
    {
        if (!IsWritable)
        {
            throw new ZoneException(ZoneError.ReadOnly, $"{_path} is open read-only");
        }

        if (_change is not null)
        {
            return body();
        }

        _journal!.Begin();
        var state = new ChangeState();
        _change = state;
        T result;
        try
        {
            result = body();
            foreach (var participant in _participants)
            {
                participant.BeforeCommit();
            }

            FinishInodes(state);
            _journal.Commit();
            _change = null;
        }
        catch (SimulatedCrashException)
        {
            // A killed writer undoes nothing: the zone stays mid-change for the next open to roll back.
            _change = null;
            NotifyAbandoned();
            RunAll(state.AfterEnd);
            throw;
        }
        catch
        {
            _change = null;
            _journal.Undo();
            foreach (var range in state.ToZeroIfUndone)
            {
                ZeroRange(range.Offset, range.Size); // written into pages the undo has just freed
            }

            BumpSeqAfterUndo(state.DirtyInodes);
            NotifyAbandoned();
            RunAll(state.AfterEnd);
            throw;
        }

        foreach (var range in state.ToZero)
        {
            ZeroRange(range.Offset, range.Size);
        }

        RunAll(state.AfterCommit);
        RunAll(state.AfterEnd);
        return result;
    }

    /// <summary>Whether a change is in progress (a nested change joins it).</summary>
    public bool InChange => _change is not null;

    /// <summary>Runs <paramref name="action"/> once the change in progress (the outermost) has committed; never if it is undone.</summary>
    public void AfterCommit(Action action) => CurrentChange().AfterCommit.Add(action);

    /// <summary>Runs <paramref name="action"/> when the change in progress (the outermost) ends, committed or undone.</summary>
    public void AfterEnd(Action action) => CurrentChange().AfterEnd.Add(action);

    /// <summary>Zeroes <paramref name="region"/> once the change in progress has committed (freed or exposed space).</summary>
    public void ZeroAfterCommit(ZoneRegion region) => CurrentChange().ToZero.Add(region);

    /// <summary>
    /// Zeroes <paramref name="region"/> if the change in progress is undone: data written into
    /// pages the change allocated, which the undo frees (free space reads as zeros). A crash
    /// leaves the zone unclean, and the next open zeroes all free space.
    /// </summary>
    public void ZeroIfUndone(ZoneRegion region) => CurrentChange().ToZeroIfUndone.Add(region);

    /// <summary>The superblock, with its running-state half journalled: changes write only that half.</summary>
    public ref SgzSuperblock SuperblockForWrite()
    {
        CurrentChange();
        ulong state = SgzAbi.SuperblockCrcOffset + 4;
        _journal!.Protect(state, SgzAbi.SuperblockSize - state);
        return ref _memory.Ref<SgzSuperblock>(0);
    }

    /// <summary>
    /// How long a change waits for a guest that holds an inode's seqcount or lock word before
    /// it fails with <see cref="GuestHoldsException"/>: 1 s for the CLI and library callers;
    /// 0 (a few microseconds of spinning) for the service, whose one loop thread must never
    /// wait on a guest: it puts the request aside and tries it again on a later pass.
    /// </summary>
    public int GuestWaitMs { get; set; } = 1000;

    /// <summary>
    /// The inode, journalled and with its seqcount held (odd) for the rest of the change.
    /// The host takes the seqcount with a compare-and-swap from even to odd; since format 2
    /// guests cannot write it (the inode table is in the read-only structure file), so an odd
    /// seq met here is garbage or a dead writer's: the take waits at most
    /// <see cref="GuestWaitMs"/> and then fails the change with
    /// <see cref="GuestHoldsException"/> (and it is undone).
    /// The caller has checked the inode number.
    /// </summary>
    public ref SgzInode InodeForWrite(ulong ino)
    {
        var change = CurrentChange();
        ref var inode = ref _memory.Ref<SgzInode>(_geometry.InodeOffset(ino));
        if (!change.DirtyInodes.Contains(ino))
        {
            TakeSeq(ino);
            change.DirtyInodes.Add(ino);
        }

        return ref inode;
    }

    public ref ulong U64ForWrite(ulong offset)
    {
        ProtectStructure(offset, 8);
        return ref _memory.Ref<ulong>(offset);
    }

    public ref ushort U16ForWrite(ulong offset)
    {
        ProtectStructure(offset, 2);
        return ref _memory.Ref<ushort>(offset);
    }

    public Span<byte> BytesForWrite(ulong offset, ulong length)
    {
        ProtectStructure(offset, length);
        return _memory.Span(offset, length);
    }

    public ref T RecordForWrite<T>(ulong offset)
        where T : unmanaged
    {
        ProtectStructure(offset, (ulong)Marshal.SizeOf<T>());
        return ref _memory.Ref<T>(offset);
    }

    /// <summary>
    /// Journals a range a change is about to write, refusing one in the superblock's page: only
    /// <see cref="SuperblockForWrite"/> writes there. Every other write lands at an offset taken
    /// from the zone's structure, so a value a guest rewrote mid-change (an inode's depth
    /// cleared, making its first page a "hole" at offset 0) must fail the change, never reach
    /// the superblock.
    /// </summary>
    private void ProtectStructure(ulong offset, ulong length)
    {
        CurrentChange();
        if (offset < ZoneGeometry.PageSize)
        {
            throw new ZoneCorruptException($"{_path}: a change was about to write 0x{length:x} bytes at zone offset 0x{offset:x}, inside the superblock's page: a structure it followed changed under it");
        }

        _journal!.Protect(offset, length);
    }

    /// <summary>
    /// Zeroes space so that the zone's free space always reads as zeros: whole chunks are
    /// punched out of the file (memory goes back to the host), anything smaller, or a file
    /// system that cannot punch, is cleared in place. Not journalled: free space only.
    /// </summary>
    public void ZeroRange(ulong offset, ulong length)
    {
        ulong split = _memory.StructureLength;
        if (offset < split && length > split - offset)
        {
            // A run across the end of Z: each file's part on its own.
            ZeroRange(offset, split - offset);
            ZeroRange(split, length - (split - offset));
            return;
        }

        if (offset % ZoneGeometry.ChunkSize == 0 && length % ZoneGeometry.ChunkSize == 0)
        {
            bool data = offset >= split;
            int fd = (int)(data ? _dataFile : _file).DangerousGetHandle();
            long at = (long)(data ? offset - split : offset);
            if (Sys.ErrnoOf(Libc.Fallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, at, (long)length)) == 0)
            {
                return;
            }
        }

        // Spans are int-sized: clear in pieces of at most 1 GiB.
        const ulong Piece = 1UL << 30;
        for (ulong done = 0; done < length;)
        {
            ulong n = Math.Min(length - done, Piece);
            var span = _memory.Span(offset + done, n);
            if (span.ContainsAnyExcept((byte)0))
            {
                span.Clear();
            }

            done += n;
        }
    }

    /// <summary>
    /// Journals an inode and makes its even seq odd. The journal first saves a copy taken
    /// at an even seq, then a compare-and-swap from that seq takes it: if a guest moved the
    /// seq in between, the record is taken back and both steps run again. So whenever a
    /// writer dies, the journal holds the inode as it was with an even seq, and an undo
    /// frees the seqcount. The whole inode is saved: since format 2 only the host writes it
    /// (guests' sizes, times and lock words are in the hints). A seq held odd can then only be
    /// a dead writer's, or garbage: fsck --repair takes it as found.
    /// </summary>
    private void TakeSeq(ulong ino)
    {
        ulong at = _geometry.InodeOffset(ino);
        ref uint seq = ref _memory.Ref<SgzInode>(at).Seq;
        Span<byte> saved = stackalloc byte[InodeJournalled];
        long deadline = Environment.TickCount64 + (Repairing ? RepairSeqTakeMs : GuestWaitMs);
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
                if (Repairing)
                {
                    // fsck --repair: a seq that stays odd this long is garbage or a dead writer's; take it as found.
                    uint stuck = Volatile.Read(ref seq) | 1;
                    _memory.Span(at, (ulong)saved.Length).CopyTo(saved);
                    MemoryMarshal.Write(saved[SeqOffset..], stuck + 1);
                    _journal!.ProtectAs(at, saved);
                    Volatile.Write(ref seq, stuck);
                    return;
                }

                throw new GuestHoldsException(
                    $"{_path}: inode {ino}: a guest has held its seqcount (seq {Volatile.Read(ref seq)}) for over {GuestWaitMs} ms; the change was not made");
            }

            Thread.SpinWait(32);
        }
    }

    /// <summary>How long a load waits for an odd seq to become even: as long as a change would, in the zone's writer.</summary>
    public int SeqWaitMs => IsWritable && !Repairing ? GuestWaitMs : InodeTable.SeqLoadMs;

    /// <summary>After an undo restored the seq the change found, moves it on so a reader that copied mid-change retries.</summary>
    private void BumpSeqAfterUndo(IEnumerable<ulong> inodes)
    {
        foreach (ulong ino in inodes)
        {
            ref uint seq = ref _memory.Ref<SgzInode>(_geometry.InodeOffset(ino)).Seq;
            uint now = Volatile.Read(ref seq);
            if ((now & 1) == 0)
            {
                Interlocked.CompareExchange(ref seq, now + 2, now);
            }
        }
    }

    private void NotifyAbandoned()
    {
        foreach (var participant in _participants)
        {
            participant.AfterAbandon();
        }
    }

    private static void RunAll(List<Action> actions)
    {
        foreach (var action in actions)
        {
            action();
        }
    }

    private ChangeState CurrentChange() =>
        _change ?? throw new InvalidOperationException("zone structure written outside a change");

    private void FinishInodes(ChangeState state)
    {
        foreach (ulong ino in state.DirtyInodes)
        {
            ref var inode = ref _memory.Ref<SgzInode>(_geometry.InodeOffset(ino));
            if (inode.Mode != 0)
            {
                inode.Crc = InodeTable.Crc(inode);
            }

            inode.Change++;
            Volatile.Write(ref inode.Seq, (inode.Seq | 1) + 1);
        }
    }

    /// <summary>The state of one change: what it dirtied and what it zeroes once committed.</summary>
    private sealed class ChangeState
    {
        public HashSet<ulong> DirtyInodes { get; } = [];

        public List<ZoneRegion> ToZero { get; } = [];

        public List<ZoneRegion> ToZeroIfUndone { get; } = [];

        public List<Action> AfterCommit { get; } = [];

        public List<Action> AfterEnd { get; } = [];
    }
}

/// <summary>A zone component whose own state follows the changes (enlisted with <see cref="ZoneWriter.Enlist"/>).</summary>
internal interface IChangeParticipant
{
    /// <summary>The body is done, the journal not yet committed: last writes of the change (may throw: the change is undone).</summary>
    void BeforeCommit();

    /// <summary>The change was undone (or, in a crash test, abandoned): drop whatever was derived from what it wrote.</summary>
    void AfterAbandon();
}
