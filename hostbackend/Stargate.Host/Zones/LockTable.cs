using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Zone locks (docs/requests.md, "Locks"). The lock table (struct sgz_lock) holds every
/// granted flock() and fcntl() lock, written in journalled changes so that locks outlive a
/// service restart; a lock belongs to (peer slot, owner). flock: one lock per owner and
/// inode, a new request converts it. POSIX: a request cuts its range out of the owner's
/// locks (splitting one where needed), merges with the owner's touching locks of the same
/// type, and adds the result. A conflict is another holder's lock of the same kind on the
/// same inode whose range overlaps, one of the two exclusive. A lock taken on another
/// generation of the inode is stale and is dropped where met.
/// Public members take the zone's lock; each grant, conversion or drop is one change.
/// </summary>
public sealed class LockTable : IChangeParticipant
{
    private readonly string _path;
    private readonly ZoneMemory _memory;
    private readonly ZoneGeometry _geometry;
    private readonly ZoneWriter _writer;
    private readonly InodeTable _inodes;
    private readonly PeerTable _peers;
    private readonly Lock _gate;

    internal LockTable(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, InodeTable inodes, PeerTable peers, Lock gate)
    {
        _path = path;
        _memory = memory;
        _geometry = geometry;
        _writer = writer;
        _inodes = inodes;
        _peers = peers;
        _gate = gate;
    }

    /// <summary>
    /// Where each inode's lock records are: one scan of the table at first use, then kept by
    /// this writer's own writes, and dropped (rebuilt at next use) when a change is undone.
    /// Every slot it names is checked against the record before use.
    /// </summary>
    private Dictionary<ulong, HashSet<uint>>? _lockIndex;

    /// <summary>Where the search for a free lock slot starts: after the last one taken.</summary>
    private uint _lockCursor;

    /// <summary>Grants, converts or releases a lock: null when done (an unlock always is), else the lock that refuses it (nothing changed). ENOLCK when the table is full.</summary>
    public LockConflict? SetLock(LockHolder who, NodeRef file, LockRange range)
    {
        range = CheckLockRequest(who, range);
        lock (_gate)
        {
            _inodes.LoadNode(file);
            if (range.Type != SgzAbi.LockUnlock && FindConflict(who, file, range) is { } conflict)
            {
                return conflict;
            }

            _writer.Change(() =>
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
        lock (_gate)
        {
            _inodes.LoadNode(file);
            return range.Type == SgzAbi.LockUnlock ? null : FindConflict(who, file, range);
        }
    }

    /// <summary>Drops every lock of a slot, or of one owner of it; returns how many. One change.</summary>
    public int DropLocks(int slot, ulong? owner = null)
    {
        _peers.Check(slot);
        lock (_gate)
        {
            var drop = new List<uint>();
            for (uint i = 0; i < _geometry.LockSlots; i++)
            {
                var r = LockRecord(i);
                if (r.Word != 0 && HolderOf(r.Word) == slot && (owner is null || r.Owner == owner))
                {
                    drop.Add(i);
                }
            }

            if (drop.Count > 0)
            {
                _writer.Change(() => drop.ForEach(ClearLock));
            }

            return drop.Count;
        }
    }

    /// <summary>Drops every lock record of an inode being freed; inside a change.</summary>
    internal void DropInodeLocks(ulong ino)
    {
        foreach (uint i in RecordsOf(ino))
        {
            ClearLock(i);
        }
    }

    private LockRange CheckLockRequest(LockHolder who, LockRange range)
    {
        _peers.Check(who.Slot);
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

        if (range.Start > range.End || (range.End != SgzAbi.LockEof && range.End >= SgzAbi.FileSizeMax))
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
        uint count = _geometry.LockSlots;
        for (uint n = 0; n < count; n++)
        {
            uint i = (_lockCursor + n) % count;
            if (LockRecord(i).Word == 0)
            {
                _lockCursor = (i + 1) % count;
                return i;
            }
        }

        throw new ZoneException(ZoneError.NoLocks, $"{_path}: the lock table is full (all {count} slots hold locks)");
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
        MemoryMarshal.Write(_writer.BytesForWrite(LockOffset(i), SgzAbi.LockSize), in r);
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
        _writer.BytesForWrite(LockOffset(i), SgzAbi.LockSize).Clear();
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

    private ulong LockOffset(uint i) => _geometry.LockTable.Offset + ((ulong)i * SgzAbi.LockSize);

    private SgzLock LockRecord(uint i) => _memory.Ref<SgzLock>(LockOffset(i));

    private static int HolderOf(ulong word) => (int)(word & SgzAbi.LockHolderMask) - 1;

    private static int KindOf(ulong word) => (int)((word >> SgzAbi.LockKindShift) & 0xf);

    void IChangeParticipant.BeforeCommit()
    {
    }

    /// <summary>The undo brought back records the index had let go of: rebuilt at next use.</summary>
    void IChangeParticipant.AfterAbandon() => _lockIndex = null;

    private Dictionary<ulong, HashSet<uint>> LockIndex()
    {
        if (_lockIndex is not null)
        {
            return _lockIndex;
        }

        var index = new Dictionary<ulong, HashSet<uint>>();
        for (uint i = 0; i < _geometry.LockSlots; i++)
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
