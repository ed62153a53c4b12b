using Stargate.Interop.Abi;

namespace Stargate.Host.Zone;

/// <summary>
/// Zone locks (docs/requests.md, "Locks"). The lock table (struct sgz_lock) holds every
/// granted flock() and fcntl() lock, written in journalled changes so that locks outlive a
/// service restart; a lock belongs to (peer slot, owner). flock: one lock per owner and
/// inode, a new request converts it. POSIX: a request cuts its range out of the owner's
/// locks (splitting one where needed), merges with the owner's touching locks of the same
/// type, and adds the result. A conflict is another holder's lock of the same kind on the
/// same inode whose range overlaps, one of the two exclusive. A lock taken on another
/// generation of the inode is stale and is dropped where met.
/// The inode lock word (sgz_inode.lock) is runtime state changed only atomically.
/// </summary>
public sealed partial class Zone
{
    private const int InodeLockWaitMs = 1000;

    /// <summary>
    /// Where each inode's lock records are: one scan of the table at first use, then kept by
    /// this writer's own writes, and dropped (rebuilt at next use) when a change is undone.
    /// Every slot it names is checked against the record before use.
    /// </summary>
    private Dictionary<ulong, HashSet<uint>>? _lockIndex;

    /// <summary>Where the search for a free lock slot starts: after the last one taken.</summary>
    private uint _lockCursor;

    /// <summary>Called after the host released an inode lock word that a peer waits on (the request server rings every live peer).</summary>
    public Action? InodeLockWaitersWoken { get; set; }

    /// <summary>Grants, converts or releases a lock: null when done (an unlock always is), else the lock that refuses it (nothing changed). ENOLCK when the table is full.</summary>
    public LockConflict? SetLock(LockHolder who, NodeRef file, LockRange range)
    {
        range = CheckLockRequest(who, range);
        lock (Sync)
        {
            LoadNode(file);
            if (range.Type != SgzAbi.LockUnlock && FindConflict(who, file, range) is { } conflict)
            {
                return conflict;
            }

            Change(() =>
            {
                var mine = OwnLocks(file, range.Kind, who);
                if (range.Kind == SgzAbi.LockKindFlock)
                {
                    SetFlock(who, file, range, mine);
                }
                else
                {
                    SetPosixLock(who, file, range, mine);
                }
            });
            return null;
        }
    }

    /// <summary>The lock that would refuse <paramref name="range"/>, or null (F_GETLK); changes nothing.</summary>
    public LockConflict? TestLock(LockHolder who, NodeRef file, LockRange range)
    {
        range = CheckLockRequest(who, range);
        lock (Sync)
        {
            LoadNode(file);
            return range.Type == SgzAbi.LockUnlock ? null : FindConflict(who, file, range);
        }
    }

    /// <summary>Drops every lock of a slot, or of one owner of it; returns how many. One change.</summary>
    public int DropLocks(int slot, ulong? owner = null)
    {
        CheckSlot(slot);
        lock (Sync)
        {
            var drop = new List<uint>();
            for (uint i = 0; i < Geometry.LockSlots; i++)
            {
                var r = LockRecord(i);
                if (r.Word != 0 && HolderOf(r.Word) == slot && (owner is null || r.Owner == owner))
                {
                    drop.Add(i);
                }
            }

            if (drop.Count > 0)
            {
                Change(() => drop.ForEach(ClearLock));
            }

            return drop.Count;
        }
    }

    /// <summary>Clears every inode lock word held by <paramref name="slot"/> (a dead peer); returns how many. Scans the used inodes.</summary>
    public int ReleaseInodeLocks(int slot)
    {
        CheckSlot(slot);
        lock (Sync)
        {
            int cleared = 0;
            var bitmap = InodeBitmap;
            for (int w = 0; w < bitmap.Length; w++)
            {
                for (ulong bits = bitmap[w]; bits != 0; bits &= bits - 1)
                {
                    ulong ino = ((ulong)w * 64) + (ulong)System.Numerics.BitOperations.TrailingZeroCount(bits);
                    if (ino == 0 || ino >= Geometry.InodeCount)
                    {
                        continue;
                    }

                    ref ulong word = ref _memory.Ref<SgzInode>(Geometry.InodeOffset(ino)).Lock;
                    ulong now = Volatile.Read(ref word);
                    if ((now & SgzAbi.IlockHolderMask) == (ulong)slot + 1 && Interlocked.CompareExchange(ref word, 0, now) == now)
                    {
                        cleared++;
                    }
                }
            }

            return cleared;
        }
    }

    /// <summary>Zeroes a peer's ring area (request and reply rings, open table): runtime state, not journalled.</summary>
    public void ClearPeerArea(int slot)
    {
        CheckSlot(slot);
        lock (Sync)
        {
            if (!IsWritable)
            {
                throw new ZoneException(ZoneError.ReadOnly, $"{Path} is open read-only");
            }

            _memory.Span(Geometry.Rings.Offset + ((ulong)slot * Geometry.RingBytes), Geometry.RingBytes).Clear();
        }
    }

    /// <summary>Drops every lock record of an inode being freed; inside a change.</summary>
    private void DropInodeLocks(ulong ino)
    {
        foreach (uint i in RecordsOf(ino))
        {
            ClearLock(i);
        }
    }

    /// <summary>The host takes an inode's lock word as slot 0, waiting a bounded time for a guest that holds it.</summary>
    private void TakeInodeLock(ulong ino)
    {
        ref ulong word = ref _memory.Ref<SgzInode>(Geometry.InodeOffset(ino)).Lock;
        long deadline = Environment.TickCount64 + InodeLockWaitMs;
        while (Interlocked.CompareExchange(ref word, (ulong)SgzAbi.HostPeerSlot + 1, 0) != 0)
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new ZoneException(ZoneError.Busy, $"{Path}: inode {ino}: its lock is held by peer slot {(Volatile.Read(ref word) & SgzAbi.IlockHolderMask) - 1} for over {InodeLockWaitMs} ms");
            }

            Thread.Sleep(1);
        }
    }

    private void ReleaseInodeLock(ulong ino)
    {
        ulong was = Interlocked.Exchange(ref _memory.Ref<SgzInode>(Geometry.InodeOffset(ino)).Lock, 0);
        if ((was & SgzAbi.IlockWaiters) != 0)
        {
            InodeLockWaitersWoken?.Invoke();
        }
    }

    private LockRange CheckLockRequest(LockHolder who, LockRange range)
    {
        CheckSlot(who.Slot);
        if (range.Kind is not (SgzAbi.LockKindFlock or SgzAbi.LockKindPosix))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"lock kind {range.Kind} (flock 1, POSIX 2)");
        }

        if (range.Type is not (SgzAbi.LockUnlock or SgzAbi.LockRead or SgzAbi.LockWrite))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"lock type {range.Type} (unlock 0, read 1, write 2)");
        }

        if (range.Kind == SgzAbi.LockKindFlock)
        {
            return range with { Start = 0, End = SgzAbi.LockEof };
        }

        if (range.Start > range.End || (range.End != SgzAbi.LockEof && range.End >= MaxFileSize))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"lock range {range.Start}..{range.End} is empty or passes the largest file");
        }

        return range;
    }

    private LockConflict? FindConflict(LockHolder who, NodeRef file, LockRange range)
    {
        bool exclusive = range.Type == SgzAbi.LockWrite;
        foreach (uint i in RecordsOf(file.Ino))
        {
            var r = LockRecord(i);
            if (r.Generation != file.Generation || KindOf(r.Word) != range.Kind
                || (HolderOf(r.Word) == who.Slot && r.Owner == who.Owner) || r.Start > r.End)
            {
                continue;
            }

            bool theirs = (r.Word & SgzAbi.LockExclusive) != 0;
            if ((exclusive || theirs) && r.Start <= range.End && range.Start <= r.End)
            {
                return new LockConflict(theirs ? SgzAbi.LockWrite : SgzAbi.LockRead, r.Pid, r.Start, r.End);
            }
        }

        return null;
    }

    /// <summary>The holder's records of this inode and kind; drops the inode's stale and garbage records. Inside a change.</summary>
    private List<uint> OwnLocks(NodeRef file, int kind, LockHolder who)
    {
        var mine = new List<uint>();
        foreach (uint i in RecordsOf(file.Ino))
        {
            var r = LockRecord(i);
            if (r.Generation != file.Generation || r.Start > r.End || KindOf(r.Word) is not (SgzAbi.LockKindFlock or SgzAbi.LockKindPosix))
            {
                ClearLock(i);
            }
            else if (KindOf(r.Word) == kind && HolderOf(r.Word) == who.Slot && r.Owner == who.Owner)
            {
                mine.Add(i);
            }
        }

        return mine;
    }

    private void SetFlock(LockHolder who, NodeRef file, LockRange range, List<uint> mine)
    {
        foreach (uint i in mine.Skip(range.Type == SgzAbi.LockUnlock ? 0 : 1))
        {
            ClearLock(i);
        }

        if (range.Type != SgzAbi.LockUnlock)
        {
            WriteLock(mine.Count > 0 ? mine[0] : TakeLockSlot(), who, file, range, range.Start, range.End);
        }
    }

    private void SetPosixLock(LockHolder who, NodeRef file, LockRange range, List<uint> mine)
    {
        ulong start = range.Start;
        ulong end = range.End;
        bool exclusive = range.Type == SgzAbi.LockWrite;
        var live = new List<uint>(mine);

        // Same-type locks that overlap or touch the range join it, until none is left.
        for (bool merged = range.Type != SgzAbi.LockUnlock; merged;)
        {
            merged = false;
            foreach (uint i in live)
            {
                var r = LockRecord(i);
                bool touches = r.Start <= Next(end) && start <= Next(r.End);
                if (touches && ((r.Word & SgzAbi.LockExclusive) != 0) == exclusive)
                {
                    start = Math.Min(start, r.Start);
                    end = Math.Max(end, r.End);
                    ClearLock(i);
                    live.Remove(i);
                    merged = true;
                    break;
                }
            }
        }

        // The owner's other locks lose whatever the range covers; one that spans it splits in two.
        foreach (uint i in live)
        {
            var r = LockRecord(i);
            if (r.Start > end || start > r.End)
            {
                continue;
            }

            bool left = r.Start < start;
            bool right = r.End > end;
            if (left && right)
            {
                UpdateLock(i, r.Start, start - 1);
                var split = r;
                split.Start = end + 1;
                WriteLockRecord(TakeLockSlot(), split);
            }
            else if (left)
            {
                UpdateLock(i, r.Start, start - 1);
            }
            else if (right)
            {
                UpdateLock(i, end + 1, r.End);
            }
            else
            {
                ClearLock(i);
            }
        }

        if (range.Type != SgzAbi.LockUnlock)
        {
            WriteLock(TakeLockSlot(), who, file, range, start, end);
        }
    }

    /// <summary>The byte after <paramref name="end"/>; end of file stays end of file.</summary>
    private static ulong Next(ulong end) => end == SgzAbi.LockEof ? end : end + 1;

    /// <summary>A free slot (word 0), searched round the table from after the last one taken.</summary>
    private uint TakeLockSlot()
    {
        uint count = Geometry.LockSlots;
        for (uint n = 0; n < count; n++)
        {
            uint i = (_lockCursor + n) % count;
            if (LockRecord(i).Word == 0)
            {
                _lockCursor = (i + 1) % count;
                return i;
            }
        }

        throw new ZoneException(ZoneError.NoLocks, $"{Path}: the lock table is full (all {count} slots hold locks)");
    }

    private void WriteLock(uint i, LockHolder who, NodeRef file, LockRange range, ulong start, ulong end)
    {
        var r = default(SgzLock);
        r.Word = ((ulong)who.Slot + 1) | ((ulong)range.Kind << SgzAbi.LockKindShift) | (range.Type == SgzAbi.LockWrite ? SgzAbi.LockExclusive : 0);
        r.Ino = file.Ino;
        r.Generation = file.Generation;
        r.Owner = who.Owner;
        r.Pid = who.Pid;
        r.Start = start;
        r.End = end;
        WriteLockRecord(i, r);
    }

    private void WriteLockRecord(uint i, in SgzLock r)
    {
        var index = LockIndex();
        Unindex(index, i);
        MemoryMarshal.Write(BytesForWrite(LockOffset(i), SgzAbi.LockSize), in r);
        if (!index.TryGetValue(r.Ino, out var slots))
        {
            index[r.Ino] = slots = [];
        }

        slots.Add(i);
    }

    private void UpdateLock(uint i, ulong start, ulong end)
    {
        var r = LockRecord(i);
        r.Start = start;
        r.End = end;
        WriteLockRecord(i, r);
    }

    private void ClearLock(uint i)
    {
        Unindex(LockIndex(), i);
        BytesForWrite(LockOffset(i), SgzAbi.LockSize).Clear();
    }

    private void Unindex(Dictionary<ulong, HashSet<uint>> index, uint i)
    {
        ulong ino = LockRecord(i).Ino;
        if (index.TryGetValue(ino, out var slots) && slots.Remove(i) && slots.Count == 0)
        {
            index.Remove(ino);
        }
    }

    /// <summary>The slots that hold records of <paramref name="ino"/> (a copy: callers change the table).</summary>
    private uint[] RecordsOf(ulong ino)
    {
        var index = LockIndex();
        if (!index.TryGetValue(ino, out var slots))
        {
            return [];
        }

        // A guest may scribble on the table: keep only slots whose record still names the inode.
        slots.RemoveWhere(i => LockRecord(i) is var r && (r.Word == 0 || r.Ino != ino));
        return [.. slots];
    }

    private ulong LockOffset(uint i) => Geometry.LockTable.Offset + ((ulong)i * SgzAbi.LockSize);

    private SgzLock LockRecord(uint i) => _memory.Ref<SgzLock>(LockOffset(i));

    private static int HolderOf(ulong word) => (int)(word & SgzAbi.LockHolderMask) - 1;

    private static int KindOf(ulong word) => (int)((word >> SgzAbi.LockKindShift) & 0xf);

    private Dictionary<ulong, HashSet<uint>> LockIndex()
    {
        if (_lockIndex is not null)
        {
            return _lockIndex;
        }

        var index = new Dictionary<ulong, HashSet<uint>>();
        for (uint i = 0; i < Geometry.LockSlots; i++)
        {
            var r = LockRecord(i);
            if (r.Word != 0)
            {
                if (!index.TryGetValue(r.Ino, out var slots))
                {
                    index[r.Ino] = slots = [];
                }

                slots.Add(i);
            }
        }

        return _lockIndex = index;
    }
}
