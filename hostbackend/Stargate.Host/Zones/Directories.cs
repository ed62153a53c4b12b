using System.Text;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Directory contents (layout: struct sgz_dirent). A directory's data is an
/// array of 4 KiB pages of 14 slots; its size is its page count times 4 KiB.
/// Slots are unordered; a lookup compares the 32-bit name hash before the
/// name. A directory's last pages are given back when they empty.
/// </summary>
/// <remarks>
/// Invariants it owns: a used slot is crc-sealed and names an inode inside the table;
/// entries counts the used slots; size is the page count times 4 KiB and the last page is
/// never empty. Called with the zone's lock held; everything that writes, inside a change.
/// </remarks>
internal sealed class Directories(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, InodeTable inodes, PageTables tables)
{
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

    /// <summary>Every slot in use, each checked; a corrupt slot throws naming the directory, slot and offset.</summary>
    public IEnumerable<DirectorySlot> Slots(ulong dirIno)
    {
        var dir = inodes.LoadLive(dirIno);
        ulong pages = dir.Size / ZoneGeometry.PageSize;
        for (ulong p = 0; p < pages; p++)
        {
            var extent = tables.Map(dirIno, inodes.Load(dirIno), p * ZoneGeometry.PageSize);
            if (extent.IsHole)
            {
                continue;
            }

            for (ulong i = 0; i < SgzAbi.DirentsPerPage; i++)
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
        foreach (var slot in Slots(dirIno))
        {
            if (slot.Entry.Hash == hash && NameOf(slot.Entry).SequenceEqual(name))
            {
                return slot;
            }
        }

        return null;
    }

    /// <summary>Adds a name to a directory, growing it by a page if every slot is taken; inside a change.</summary>
    public void AddEntry(ulong dirIno, ReadOnlySpan<byte> name, ulong ino, byte type, int slot)
    {
        ulong at = FindFreeSlot(dirIno);
        if (at == 0)
        {
            var dir = inodes.LoadLive(dirIno);
            ulong end = dir.Size + ZoneGeometry.PageSize;
            tables.Populate(dirIno, dir.Size, end, slot, _ => false);
            inodes.ForWrite(dirIno).Size = end;
            at = tables.MapAllocated(dirIno, inodes.Load(dirIno), dir.Size).ZoneOffset + SgzAbi.DirPageHeader;
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
        TouchDirectory(dirIno, +1);
    }

    /// <summary>Clears a slot and gives back the directory's trailing empty pages; inside a change.</summary>
    public void RemoveEntry(ulong dirIno, DirectorySlot slot)
    {
        writer.BytesForWrite(slot.Offset, SgzAbi.DirentSize).Clear();
        TouchDirectory(dirIno, -1);

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

    /// <summary>Every name in the directory, for readdir and ls.</summary>
    public IReadOnlyList<DirectoryEntry> List(ulong dirIno) =>
        [.. Slots(dirIno).Select(s => new DirectoryEntry(Encoding.UTF8.GetString(NameOf(s.Entry)), s.Entry.Ino, s.Entry.Type))];

    private void TouchDirectory(ulong dirIno, int delta)
    {
        ref var dir = ref inodes.ForWrite(dirIno);
        dir.Entries = (ulong)((long)dir.Entries + delta);
        dir.MtimeNs = dir.CtimeNs = ZoneClock.NowNs();
    }

    private ulong FindFreeSlot(ulong dirIno)
    {
        var dir = inodes.LoadLive(dirIno);
        for (ulong p = 0; p < dir.Size / ZoneGeometry.PageSize; p++)
        {
            var extent = tables.Map(dirIno, inodes.Load(dirIno), p * ZoneGeometry.PageSize);
            if (extent.IsHole)
            {
                continue;
            }

            for (ulong i = 0; i < SgzAbi.DirentsPerPage; i++)
            {
                ulong at = extent.ZoneOffset + SgzAbi.DirPageHeader + (i * SgzAbi.DirentSize);
                if (memory.Ref<ulong>(at) == 0)
                {
                    return at;
                }
            }
        }

        return 0;
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
