using System.Runtime.InteropServices;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The zone's undo journal (layout: struct sgz_journal_header in stargate_zone.h).
/// A change protects each range before writing it: the range's old bytes go to
/// a record, then <c>used</c> is raised, then the caller writes. Commit sets the
/// state back to idle with one store. Whatever instant a writer dies at, a
/// reader that finds the journal active restores every protected range and the
/// zone is exactly as before the change.
/// </summary>
/// <remarks>
/// Ranges are journalled by 64-byte line, each line once per change, so a
/// change's journal cost is bounded by the lines it touches, not by its writes.
/// Stores to the header use Volatile.Write: the record must be in the zone
/// before <c>used</c> covers it, and <c>used</c> before the protected write.
/// Every record is also kept in this process (<see cref="_saved"/>): a change that fails
/// here is undone from that private copy (<see cref="Undo"/>), never from the zone, whose
/// records a guest may have rewritten in the meantime (in zone format 1 the journal is
/// guest-writable). The zone's records serve only the next writer after a crash.
/// </remarks>
internal sealed class Journal(ZoneMemory memory, ZoneRegion region)
{
    private const ulong Line = 64;
    private const ulong HeaderSize = 64;
    private readonly HashSet<ulong> _protectedLines = [];

    /// <summary>This change's records as saved, in order: (zone offset, old bytes, <c>used</c> before the record).</summary>
    private readonly List<(ulong Offset, byte[] Old, ulong UsedBefore)> _saved = [];
    private ulong _used;

    /// <summary>The fault-injection test seam: what runs at which crash point (null = none armed).</summary>
    private Action? _crash;
    private long _crashCountdown;

    public bool IsActive => Header.State == SgzAbi.JournalActive;

    public ulong Capacity => region.Size - HeaderSize;

    private ref SgzJournalHeader Header => ref memory.Ref<SgzJournalHeader>(region.Offset);

    /// <summary>Writes an empty idle journal (format time).</summary>
    public void Format()
    {
        ref var h = ref Header;
        h = default;
        h.Magic = SgzAbi.JournalMagic;
        h.State = SgzAbi.JournalIdle;
    }

    public void CheckHeader(string path)
    {
        ref var h = ref Header;
        if (h.Magic != SgzAbi.JournalMagic)
        {
            throw new ZoneCorruptException($"{path}: journal header at 0x{region.Offset:x} has a bad magic 0x{h.Magic:x16}");
        }

        if (h.State != SgzAbi.JournalIdle && h.State != SgzAbi.JournalActive)
        {
            throw new ZoneCorruptException($"{path}: journal header at 0x{region.Offset:x} has an unknown state {h.State}");
        }
    }

    public void Begin()
    {
        ref var h = ref Header;
        _protectedLines.Clear();
        _saved.Clear();
        _used = 0;
        Volatile.Write(ref h.Used, 0UL);
        h.Sequence++;
        Volatile.Write(ref h.State, (uint)SgzAbi.JournalActive);
    }

    /// <summary>Saves the old bytes of [offset, offset+length) unless this change saved them already.</summary>
    public void Protect(ulong offset, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        ulong first = offset & ~(Line - 1);
        ulong end = Units.RoundUp(offset + length, Line);
        if (first < region.End && end > region.Offset)
        {
            throw new InvalidOperationException($"a change tried to write the journal itself at 0x{offset:x}");
        }

        ulong runStart = 0;
        ulong runLength = 0;
        for (ulong line = first; line < end; line += Line)
        {
            if (_protectedLines.Add(line))
            {
                if (runLength == 0)
                {
                    runStart = line;
                }

                runLength += Line;
            }
            else if (runLength > 0)
            {
                Append(runStart, runLength);
                runLength = 0;
            }
        }

        if (runLength > 0)
        {
            Append(runStart, runLength);
        }
    }

    /// <summary>
    /// Saves <paramref name="old"/> as the old bytes of a line-aligned range this change has not
    /// saved yet: for a range whose live bytes already differ from what an undo must restore
    /// (an inode whose seqcount this change has just made odd).
    /// </summary>
    public void ProtectAs(ulong offset, ReadOnlySpan<byte> old)
    {
        ulong length = (ulong)old.Length;
        if (offset % Line != 0 || length % Line != 0 || length == 0)
        {
            throw new InvalidOperationException($"ProtectAs needs whole lines (0x{offset:x} +{length})");
        }

        for (ulong line = offset; line < offset + length; line += Line)
        {
            if (!_protectedLines.Add(line))
            {
                throw new InvalidOperationException($"line 0x{line:x} is already saved in this change");
            }
        }

        Append(offset, length, old);
    }

    /// <summary>Where the next record goes: <see cref="DropSince"/> takes back what was saved after it.</summary>
    public ulong Mark => _used;

    /// <summary>
    /// Takes back the records saved since <paramref name="mark"/> (one store of <c>used</c>),
    /// which covered [offset, offset+length): the caller has not written that range.
    /// </summary>
    public void DropSince(ulong mark, ulong offset, ulong length)
    {
        _used = mark;
        Volatile.Write(ref Header.Used, mark);
        _saved.RemoveAll(r => r.UsedBefore >= mark);
        for (ulong line = offset & ~(Line - 1); line < offset + length; line += Line)
        {
            _protectedLines.Remove(line);
        }
    }

    /// <summary>
    /// Test seam: runs <paramref name="crash"/> at the <paramref name="point"/>-th point from now at
    /// which a writer could be killed (before each record is counted, after it, before commit),
    /// once; the crash tests throw or SIGKILL from it. Never armed in production.
    /// </summary>
    public void ArmCrash(long point, Action crash)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(point, 1);
        _crashCountdown = point;
        _crash = crash;
    }

    public void DisarmCrash() => _crash = null;

    public void Commit()
    {
        CrashPoint();
        Volatile.Write(ref Header.State, (uint)SgzAbi.JournalIdle);
        _protectedLines.Clear();
        _saved.Clear();
    }

    /// <summary>
    /// Undoes this process's change in progress from its private copy of the saved bytes,
    /// newest first, and marks the journal idle: whatever the zone's journal region holds now
    /// plays no part. Returns the records applied.
    /// </summary>
    public int Undo()
    {
        for (int i = _saved.Count - 1; i >= 0; i--)
        {
            var (offset, old, _) = _saved[i];
            old.CopyTo(memory.Span(offset, (ulong)old.Length));
        }

        int applied = _saved.Count;
        _saved.Clear();
        Volatile.Write(ref Header.State, (uint)SgzAbi.JournalIdle);
        _protectedLines.Clear();
        return applied;
    }

    /// <summary>
    /// Undoes the change a dead writer left, from the zone's journal (at open, and fsck
    /// --repair): returns the records applied.
    /// </summary>
    public int Rollback(string path)
    {
        ref var h = ref Header;
        ulong used = Volatile.Read(ref h.Used);
        if (used > Capacity)
        {
            throw new ZoneCorruptException($"{path}: journal at 0x{region.Offset:x} claims {used} bytes of records but holds {Capacity}");
        }

        var records = new List<(ulong Offset, ulong Length, ulong Data)>();
        ulong pos = 0;
        while (pos < used)
        {
            ulong at = region.Offset + HeaderSize + pos;
            if (used - pos < (ulong)Marshal.SizeOf<SgzJournalRecord>())
            {
                throw new ZoneCorruptException($"{path}: journal record at 0x{at:x} is cut short");
            }

            var rec = memory.Ref<SgzJournalRecord>(at);
            ulong size = 16 + Units.RoundUp(rec.Length, 8);
            bool inZone = rec.Length > 0 && rec.Length <= memory.Length && rec.Offset <= memory.Length - rec.Length;
            bool clearOfJournal = rec.Offset + rec.Length <= region.Offset || rec.Offset >= region.End;
            if (!inZone || !clearOfJournal || size > used - pos)
            {
                throw new ZoneCorruptException($"{path}: journal record at 0x{at:x} names an invalid range 0x{rec.Offset:x} (+0x{rec.Length:x})");
            }

            if (RecordCrc(rec.Offset, rec.Length, memory.Span(at + 16, rec.Length)) != rec.Crc)
            {
                throw new ZoneCorruptException($"{path}: journal record at 0x{at:x} fails its checksum");
            }

            records.Add((rec.Offset, rec.Length, at + 16));
            pos += size;
        }

        for (int i = records.Count - 1; i >= 0; i--)
        {
            var (offset, length, data) = records[i];
            memory.Span(data, length).CopyTo(memory.Span(offset, length));
        }

        Volatile.Write(ref h.State, (uint)SgzAbi.JournalIdle);
        _protectedLines.Clear();
        _saved.Clear();
        return records.Count;
    }

    private static uint RecordCrc(ulong offset, uint length, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[12];
        BitConverter.TryWriteBytes(head, offset);
        BitConverter.TryWriteBytes(head[8..], length);
        return ~Crc32C.Append(Crc32C.Append(0xffffffffu, head), data);
    }

    private void Append(ulong offset, ulong length) => Append(offset, length, memory.Span(offset, length));

    private void Append(ulong offset, ulong length, ReadOnlySpan<byte> old)
    {
        ulong size = 16 + length;
        if (_used + size > Capacity)
        {
            throw new ZoneException(ZoneError.NoSpace,
                $"this change touches more metadata than the zone's {Units.Bytes(region.Size)} journal holds; split it into smaller steps");
        }

        ulong at = region.Offset + HeaderSize + _used;
        _saved.Add((offset, old.ToArray(), _used));
        old.CopyTo(memory.Span(at + 16, length));
        ref var rec = ref memory.Ref<SgzJournalRecord>(at);
        rec.Offset = offset;
        rec.Length = (uint)length;
        rec.Crc = RecordCrc(offset, (uint)length, old);
        CrashPoint();
        _used += size;
        Volatile.Write(ref Header.Used, _used);
        CrashPoint();
    }

    private void CrashPoint()
    {
        if (_crash is { } crash && --_crashCountdown == 0)
        {
            _crash = null;
            crash();
        }
    }
}
