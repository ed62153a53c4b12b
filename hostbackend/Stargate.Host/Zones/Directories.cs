using System.Text;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Directory contents (layout: struct sgz_dirent). A directory's data is an
/// array of 4 KiB pages of 14 slots; its size is its page count times 4 KiB.
/// Slots are unordered and an entry never moves while it lives (its slot number is the
/// readdir cookie); a new entry takes the lowest free slot. A directory's last pages are
/// given back when they empty. Since format 2.2 the directory's index (<see cref="DirectoryIndex"/>)
/// finds a name's slot by its 32-bit hash; a directory without one (every directory of a
/// 2.1 zone) gets one the first time a name is added to it, and loses it when its last
/// entry goes.
/// </summary>
/// <remarks>
/// Invariants it owns: a used slot is crc-sealed and names an inode inside the table;
/// entries counts the used slots; size is the page count times 4 KiB and the last page is
/// never empty; an index, where there is one, holds exactly the used slots. Called with the
/// zone's lock held; everything that writes, inside a change, which takes the directory's
/// inode for write (its seqcount odd) before it writes an entry or the index.
/// The free slots of each directory changed since the zone was opened are kept in memory
/// (found by one scan at its first change), dropped when a change that touched them is undone.
/// </remarks>
internal sealed class Directories(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, InodeTable inodes, PageTables tables, Allocator allocator)
{
    private readonly DirectoryIndex _index = new(path, memory, geometry, writer, inodes, allocator);
    private readonly Dictionary<NodeRef, SortedSet<ulong>> _free = [];

    /// <summary>The index's code, for fsck.</summary>
    public DirectoryIndex Index => _index;

    private static readonly int DirentSealed = (int)Marshal.OffsetOf<SgzDirent>(nameof(SgzDirent.Crc));

    public static unsafe uint DirentCrc(in SgzDirent d)
    {
        fixed (SgzDirent* p = &d)
        {
            return Crc32C.Compute(new ReadOnlySpan<byte>(p, DirentSealed));
        }
    }

    public static unsafe ReadOnlySpan<byte> NameOf(in SgzDirent d)
    {
        fixed (byte* name = d.Name)
        {
            return new ReadOnlySpan<byte>(name, Math.Min((int)d.NameLen, SgzAbi.NameMax)).ToArray();
        }
    }

    /// <summary>Checks a name as a directory entry may hold it; returns its UTF-8 bytes.</summary>
    public static byte[] CheckName(string name) => CheckName(Encoding.UTF8.GetBytes(name));

    /// <summary>The name rules (1..255 bytes, no '/' or NUL, not "." or ".."); returns a copy of the bytes.</summary>
    public static byte[] CheckName(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > SgzAbi.NameMax)
        {
            throw new ZoneException(ZoneError.NameTooLong, $"name '{Shorten(Encoding.UTF8.GetString(bytes))}' is {bytes.Length} bytes long; the most is {SgzAbi.NameMax}");
        }

        if (bytes.Length == 0 || bytes.SequenceEqual("."u8) || bytes.SequenceEqual(".."u8) || bytes.IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"'{Encoding.UTF8.GetString(bytes)}' cannot be a file name");
        }

        return bytes.ToArray();
    }

    /// <summary>
    /// Every slot in use from slot <paramref name="first"/> on, in slot order, each checked; a
    /// corrupt slot throws naming the directory, slot and offset. A slot's index stays while its
    /// name does, so it serves as a readdir cookie.
    /// </summary>
    public IEnumerable<DirectorySlot> Slots(ulong dirIno, ulong first = 0)
    {
        var dir = inodes.LoadLive(dirIno);
        ulong pages = dir.Size / ZoneGeometry.PageSize;
        for (ulong p = first / SgzAbi.DirentsPerPage; p < pages; p++)
        {
            var extent = tables.Map(dirIno, inodes.Load(dirIno), p * ZoneGeometry.PageSize);
            if (extent.IsHole)
            {
                continue;
            }

            for (ulong i = p == first / SgzAbi.DirentsPerPage ? first % SgzAbi.DirentsPerPage : 0; i < SgzAbi.DirentsPerPage; i++)
            {
                ulong at = extent.ZoneOffset + SgzAbi.DirPageHeader + (i * SgzAbi.DirentSize);
                var d = memory.Ref<SgzDirent>(at);
                if (d.Ino == 0)
                {
                    continue;
                }

                yield return new DirectorySlot((p * SgzAbi.DirentsPerPage) + i, at, CheckDirent(dirIno, at, d));
            }
        }
    }

    public DirectorySlot? FindEntry(ulong dirIno, ReadOnlySpan<byte> name)
    {
        uint hash = Crc32C.Compute(name);
        var dir = inodes.LoadLive(dirIno);
        if (dir.IndexRoot != 0)
        {
            DirectorySlot? found = null;
            byte[] wanted = name.ToArray();
            _index.Find(dirIno, CheckIndexRoot(dirIno, dir), hash, n =>
            {
                var slot = SlotAt(dirIno, dir, n);
                if (slot is { } s && s.Entry.Hash == hash && NameOf(s.Entry).SequenceEqual(wanted))
                {
                    found = s;
                    return true;
                }

                return false;
            });
            return found;
        }

        foreach (var slot in Slots(dirIno))
        {
            if (slot.Entry.Hash == hash && NameOf(slot.Entry).SequenceEqual(name))
            {
                return slot;
            }
        }

        return null;
    }

    /// <summary>Adds a name to a directory (and its index, built first if it has none), growing it by a page if every slot is taken; inside a change.</summary>
    public void AddEntry(ulong dirIno, ReadOnlySpan<byte> name, ulong ino, byte type, int slot)
    {
        inodes.ForWrite(dirIno);
        ulong root = inodes.Load(dirIno).IndexRoot;
        if (root == 0)
        {
            root = _index.Build(dirIno, [.. Slots(dirIno).Select(s => (s.Entry.Hash, s.Index))], slot);
        }
        else
        {
            CheckIndexRoot(dirIno, inodes.Load(dirIno));
        }

        var free = FreeSlots(dirIno);
        if (free.Count == 0)
        {
            var dir = inodes.LoadLive(dirIno);
            ulong end = dir.Size + ZoneGeometry.PageSize;
            tables.Populate(dirIno, dir.Size, end, slot, _ => false);
            inodes.ForWrite(dirIno).Size = end;
            tables.MapAllocated(dirIno, inodes.Load(dirIno), dir.Size);
            ulong first = dir.Size / ZoneGeometry.PageSize * SgzAbi.DirentsPerPage;
            for (ulong i = 0; i < SgzAbi.DirentsPerPage; i++)
            {
                free.Add(first + i);
            }
        }

        ulong number = free.Min;
        free.Remove(number);
        ulong at = SlotOffset(dirIno, inodes.Load(dirIno), number)
            ?? throw new ZoneCorruptException($"{path}: directory inode {dirIno}: free slot {number} lies in a hole");
        if (memory.Ref<ulong>(at) != 0)
        {
            throw new ZoneCorruptException($"{path}: directory inode {dirIno}: slot {number}, free when the directory was scanned, is in use");
        }

        var d = default(SgzDirent);
        d.Ino = ino;
        d.Generation = inodes.Load(ino).Generation;
        d.Hash = Crc32C.Compute(name);
        d.NameLen = (byte)name.Length;
        d.Type = type;
        unsafe
        {
            name.CopyTo(new Span<byte>(d.Name, SgzAbi.NameMax + 1));
        }

        d.Crc = DirentCrc(d);
        var target = writer.BytesForWrite(at, SgzAbi.DirentSize);
        MemoryMarshal.Write(target, in d);
        _index.Insert(dirIno, root, d.Hash, number, slot);
        TouchDirectory(dirIno, +1);
    }

    /// <summary>Clears a slot (and its pair in the index; the index goes with the last entry) and gives back the directory's trailing empty pages; inside a change.</summary>
    public void RemoveEntry(ulong dirIno, DirectorySlot slot)
    {
        inodes.ForWrite(dirIno);
        var free = FreeSlots(dirIno);
        writer.BytesForWrite(slot.Offset, SgzAbi.DirentSize).Clear();
        free.Add(slot.Index);
        TouchDirectory(dirIno, -1);
        var dir = inodes.Load(dirIno);
        if (dir.IndexRoot != 0)
        {
            ulong root = CheckIndexRoot(dirIno, dir);
            _index.Remove(dirIno, root, slot.Entry.Hash, slot.Index);
            if (dir.Entries == 0)
            {
                _index.Drop(dirIno, root);
            }
        }

        // The size is read once, here (checked against the directory's pages by Load): the loop
        // steps down from it by itself and never reads the size again, which a guest could keep
        // raising (zone format 1) to make it run for ever.
        for (ulong size = inodes.Load(dirIno).Size; size > 0; size -= ZoneGeometry.PageSize)
        {
            ulong last = size - ZoneGeometry.PageSize;
            var extent = tables.Map(dirIno, inodes.Load(dirIno), last);
            if (!extent.IsHole && memory.Span(extent.ZoneOffset, ZoneGeometry.PageSize).ContainsAnyExcept((byte)0))
            {
                return;
            }

            tables.FreeFrom(dirIno, last);
            inodes.ForWrite(dirIno).Size = last;
            ulong first = last / ZoneGeometry.PageSize * SgzAbi.DirentsPerPage;
            free.GetViewBetween(first, ulong.MaxValue).Clear();
        }
    }

    /// <summary>Points an existing entry at another inode, keeping its name and slot; inside a change.</summary>
    public void RetargetEntry(ulong dirIno, DirectorySlot slot, ulong ino, byte type)
    {
        var d = slot.Entry;
        d.Ino = ino;
        d.Generation = inodes.Load(ino).Generation;
        d.Type = type;
        d.Crc = DirentCrc(d);
        MemoryMarshal.Write(writer.BytesForWrite(slot.Offset, SgzAbi.DirentSize), in d);
        TouchDirectory(dirIno, 0);
    }

    /// <summary>Gives a directory with entries and no index one (fsck --repair, after it dropped a damaged one); inside a change.</summary>
    public void BuildIndex(ulong dirIno)
    {
        var dir = inodes.LoadLive(dirIno);
        if (dir.IndexRoot == 0 && dir.Entries > 0)
        {
            inodes.ForWrite(dirIno);
            _index.Build(dirIno, [.. Slots(dirIno).Select(s => (s.Entry.Hash, s.Index))], SgzAbi.HostPeerSlot);
        }
    }

    /// <summary>Every name in the directory, for readdir and ls.</summary>
    public IReadOnlyList<DirectoryEntry> List(ulong dirIno) =>
        [.. Slots(dirIno).Select(s => new DirectoryEntry(Encoding.UTF8.GetString(NameOf(s.Entry)), s.Entry.Ino, s.Entry.Type))];

    private void TouchDirectory(ulong dirIno, int delta)
    {
        ref var dir = ref inodes.ForWrite(dirIno);
        dir.Entries = (ulong)((long)dir.Entries + delta);
        dir.MtimeNs = dir.CtimeNs = ZoneClock.NowNs();
    }

    /// <summary>
    /// The directory's free slots (below its size), found by one scan the first time a change
    /// touches it; if that change is undone they are dropped, to be found again.
    /// </summary>
    private SortedSet<ulong> FreeSlots(ulong dirIno)
    {
        var key = new NodeRef(dirIno, inodes.Load(dirIno).Generation);
        if (!_free.TryGetValue(key, out var free))
        {
            free = [];
            var dir = inodes.LoadLive(dirIno);
            ulong pages = dir.Size / ZoneGeometry.PageSize;
            for (ulong p = 0; p < pages; p++)
            {
                var extent = tables.Map(dirIno, inodes.Load(dirIno), p * ZoneGeometry.PageSize);
                for (ulong i = 0; !extent.IsHole && i < SgzAbi.DirentsPerPage; i++)
                {
                    if (memory.Ref<ulong>(extent.ZoneOffset + SgzAbi.DirPageHeader + (i * SgzAbi.DirentSize)) == 0)
                    {
                        free.Add((p * SgzAbi.DirentsPerPage) + i);
                    }
                }
            }

            _free[key] = free;
        }

        bool committed = false;
        writer.AfterCommit(() => committed = true);
        writer.AfterEnd(() =>
        {
            if (!committed)
            {
                _free.Remove(key);
            }
        });
        return free;
    }

    /// <summary>Where slot <paramref name="number"/> lies in the zone; null for a slot in a hole or past the end.</summary>
    private ulong? SlotOffset(ulong dirIno, in SgzInode dir, ulong number)
    {
        ulong page = number / SgzAbi.DirentsPerPage;
        if (page >= dir.Size / ZoneGeometry.PageSize)
        {
            return null;
        }

        var extent = tables.Map(dirIno, dir, page * ZoneGeometry.PageSize);
        return extent.IsHole ? null : extent.ZoneOffset + SgzAbi.DirPageHeader + (number % SgzAbi.DirentsPerPage * SgzAbi.DirentSize);
    }

    /// <summary>The slot an index pair names, if it is in use (checked); null if it is free or out of range.</summary>
    private DirectorySlot? SlotAt(ulong dirIno, in SgzInode dir, ulong number)
    {
        if (SlotOffset(dirIno, dir, number) is not ulong at)
        {
            return null;
        }

        var d = memory.Ref<SgzDirent>(at);
        return d.Ino == 0 ? null : new DirectorySlot(number, at, CheckDirent(dirIno, at, d));
    }

    private ulong CheckIndexRoot(ulong dirIno, in SgzInode dir)
    {
        ulong root = dir.IndexRoot;
        if (root % ZoneGeometry.PageSize != 0 || root >> SgzAbi.PageShift > uint.MaxValue
            || !DirectoryIndex.TryPage(geometry, (uint)(root >> SgzAbi.PageShift), out _))
        {
            throw new ZoneCorruptException($"{path}: directory inode {dirIno}: index root 0x{root:x} is not a page of the structure pool; run 'stargate zone fsck --repair'");
        }

        return root;
    }

    private SgzDirent CheckDirent(ulong dirIno, ulong at, in SgzDirent d)
    {
        string? problem = null;
        if (DirentCrc(d) != d.Crc)
        {
            problem = $"checksum mismatch (stored 0x{d.Crc:x8}, computed 0x{DirentCrc(d):x8})";
        }
        else if (d.NameLen == 0 || d.Ino >= geometry.InodeCount)
        {
            problem = $"invalid name length {d.NameLen} or inode {d.Ino}";
        }

        if (problem is not null)
        {
            throw new ZoneCorruptException($"{path}: directory inode {dirIno}: entry at zone offset 0x{at:x}: {problem}; run 'stargate zone fsck'");
        }

        return d;
    }

    private static string Shorten(string name) => name.Length <= 40 ? name : name[..37] + "...";
}
