using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// copy_file_range between two regular files of the zone, done by the host (SGZ_OP_COPY,
/// docs/requests.md "COPY"): the bytes go from the source's pages to the destination's
/// through the host's mapping, never through a guest. One call copies at most
/// SGZ_COPY_MAX bytes (a guest loops), so one request holds the service loop for a few
/// milliseconds at most. Holes of the source stay holes where the destination has none,
/// and are zeroed where it has pages. Public members take the zone's lock.
/// </summary>
public sealed class FileCopy
{
    private readonly ZoneMemory _memory;
    private readonly ZoneWriter _writer;
    private readonly InodeTable _inodes;
    private readonly PageTables _tables;
    private readonly InodeLockWords _lockWords;
    private readonly PeerTable _peers;
    private readonly FileData _files;
    private readonly Lock _gate;

    internal FileCopy(
        ZoneMemory memory, ZoneWriter writer, InodeTable inodes, PageTables tables, InodeLockWords lockWords, PeerTable peers, FileData files, Lock gate)
    {
        _memory = memory;
        _writer = writer;
        _inodes = inodes;
        _tables = tables;
        _lockWords = lockWords;
        _peers = peers;
        _files = files;
        _gate = gate;
    }

    /// <summary>
    /// Copies up to <paramref name="length"/> bytes (1..SGZ_COPY_MAX) from
    /// <paramref name="sourceOffset"/> of <paramref name="source"/> to <paramref name="targetOffset"/>
    /// of <paramref name="target"/>, fewer where the source's (effective) size ends; returns
    /// how many. <paramref name="c"/> needs read permission on the source and write permission
    /// on the target; ranges of one file must not overlap (EINVAL, as copy_file_range). Pages
    /// come from <see cref="Caller.Slot"/>'s partition; the target grows to the copy's end,
    /// its mtime and ctime move, and set-user-id and set-group-id (with group execute) drop
    /// unless <paramref name="keepPrivileges"/> (a caller with CAP_FSETID). The asking guest
    /// holds the target's lock word (another holder defers the request). One change.
    /// </summary>
    public ulong Copy(Caller c, NodeRef source, ulong sourceOffset, NodeRef target, ulong targetOffset, ulong length, bool keepPrivileges)
    {
        CheckRange(source, sourceOffset, target, targetOffset, length);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            var from = _inodes.LoadNode(source);
            FileData.RequireFile(source.Ino, from);
            var to = _inodes.LoadNode(target);
            FileData.RequireFile(target.Ino, to);
            Permissions.RequireMay(c, source.Ino, from, Permissions.MayRead, $"copy from inode {source.Ino}");
            Permissions.RequireMay(c, target.Ino, to, Permissions.MayWrite, $"copy to inode {target.Ino}");
            if (source.Ino == target.Ino && sourceOffset < targetOffset + length && targetOffset < sourceOffset + length)
            {
                throw new ZoneException(ZoneError.InvalidArgument, $"copy in inode {source.Ino}: {sourceOffset}+{length} overlaps {targetOffset}+{length}");
            }

            ulong n = sourceOffset >= from.Size ? 0 : Math.Min(length, from.Size - sourceOffset);
            if (n == 0)
            {
                return 0;
            }

            return _lockWords.ChangeHolding(target.Ino, c.Slot, () =>
            {
                _inodes.Fold(target.Ino);
                ulong now = _inodes.ChangeTime(target.Ino);
                ulong oldSize = _inodes.Load(target.Ino).Size;
                Allocate(c.Slot, source.Ino, sourceOffset, target.Ino, targetOffset, n);
                if (targetOffset > oldSize)
                {
                    _files.ZeroAllocated(target.Ino, oldSize, targetOffset);
                }

                CopyBytes(source.Ino, sourceOffset, target.Ino, targetOffset, n);
                ref var w = ref _inodes.ForWrite(target.Ino);
                w.Size = Math.Max(w.Size, targetOffset + n);
                w.MtimeNs = w.CtimeNs = now;
                if (!keepPrivileges)
                {
                    w.Mode &= ~Permissions.KilledPrivileges(w.Mode);
                }

                return n;
            });
        }
    }

    /// <summary>A range a COPY may name: 1..SGZ_COPY_MAX bytes, both ends inside the largest file.</summary>
    private static void CheckRange(NodeRef source, ulong sourceOffset, NodeRef target, ulong targetOffset, ulong length)
    {
        if (length == 0 || length > SgzAbi.CopyMax)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"copy from inode {source.Ino} to {target.Ino}: length {length} is not 1..{SgzAbi.CopyMax}");
        }

        foreach (ulong offset in (ReadOnlySpan<ulong>)[sourceOffset, targetOffset])
        {
            if (offset > FileData.MaxFileSize || length > FileData.MaxFileSize - offset)
            {
                throw new ZoneException(ZoneError.FileTooLarge, $"copy from inode {source.Ino} to {target.Ino}: {offset}+{length} passes the largest file size, {Units.Bytes(FileData.MaxFileSize)}");
            }
        }
    }

    /// <summary>
    /// Allocates the target's pages under the source's data in the copied range (its holes
    /// stay holes), as a write of those bytes would; inside the change. Pages it fills are
    /// zeroed again if the change is undone (the copy writes into them before it commits).
    /// </summary>
    private void Allocate(int slot, ulong source, ulong sourceOffset, ulong target, ulong targetOffset, ulong n)
    {
        bool large = Math.Max(_inodes.Load(target).Size, targetOffset + n) >= ZoneGeometry.ChunkSize;
        var filled = new List<(ulong Offset, ulong Length)>();
        ulong allocated = 0;
        for (ulong pos = 0; pos < n;)
        {
            var extent = _tables.Map(source, _inodes.Load(source), sourceOffset + pos);
            ulong run = Math.Min(extent.Length, n - pos);
            if (!extent.IsHole)
            {
                // Each run as a write of it: an island run far from the target's data gets its pages only.
                ulong from = targetOffset + pos, to = from + run;
                filled.AddRange(Holes(target, from, run));
                _tables.Populate(target, from, to, slot, _files.ChunkLeaves(target, from, to, large));
                allocated = to;
            }

            pos += run;
        }

        if (allocated > 0)
        {
            _files.RaiseAllocEnd(target, allocated);
        }

        foreach (var (offset, length) in filled)
        {
            for (ulong pos = offset; pos < offset + length;)
            {
                var extent = _tables.MapAllocated(target, _inodes.Load(target), pos);
                ulong run = Math.Min(extent.Length, offset + length - pos);
                _writer.ZeroIfUndone(new ZoneRegion(extent.ZoneOffset, run));
                pos += run;
            }
        }
    }

    /// <summary>The holes of [offset, offset + length) of a file, as file ranges.</summary>
    private List<(ulong Offset, ulong Length)> Holes(ulong ino, ulong offset, ulong length)
    {
        var holes = new List<(ulong, ulong)>();
        var inode = _inodes.Load(ino);
        for (ulong pos = offset; pos < offset + length;)
        {
            var extent = _tables.Map(ino, inode, pos);
            ulong run = Math.Min(extent.Length, offset + length - pos);
            if (extent.IsHole)
            {
                holes.Add((pos, run));
            }

            pos += run;
        }

        return holes;
    }

    /// <summary>Copies the bytes, extent by extent; a hole of the source zeroes the target's pages there, if it has any.</summary>
    private void CopyBytes(ulong source, ulong sourceOffset, ulong target, ulong targetOffset, ulong n)
    {
        var from = _inodes.Load(source);
        var to = _inodes.Load(target);
        for (ulong pos = 0; pos < n;)
        {
            var read = _tables.Map(source, from, sourceOffset + pos);
            var write = read.IsHole ? _tables.Map(target, to, targetOffset + pos) : _tables.MapAllocated(target, to, targetOffset + pos);
            ulong run = Math.Min(Math.Min(read.Length, write.Length), n - pos);
            if (!read.IsHole)
            {
                _memory.Span(read.ZoneOffset, run).CopyTo(_memory.Span(write.ZoneOffset, run));
            }
            else if (!write.IsHole)
            {
                _writer.ZeroRange(write.ZoneOffset, run);
            }

            pos += run;
        }
    }
}
