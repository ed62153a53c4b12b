using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// File data and attributes. A write first allocates what it needs (in changes of at most
/// SGZ_ALLOCATE_MAX each, so any one change fits the journal), then copies the data
/// straight into the zone, then raises size and mtime in a last change: a writer killed
/// midway leaves the old size, never a size over missing data. Allocated bytes past
/// end-of-file read as zeros: shrinking zeroes the tail it keeps, and growing zeroes what
/// it exposes (a writer that died past the end). setattr and allocate are the requests of
/// docs/requests.md (SETATTR and "Space for appends"). Public members take the zone's lock.
/// </summary>
public sealed class FileData
{
    private readonly string _path;
    private readonly SafeFileHandle _dataFile;
    private readonly ZoneMemory _memory;
    private readonly ZoneWriter _writer;
    private readonly InodeTable _inodes;
    private readonly PageTables _tables;
    private readonly InodeLockWords _lockWords;
    private readonly PeerTable _peers;
    private readonly Lock _gate;

    /// <summary>False once copy_file_range has failed on this zone's file system.</summary>
    private bool _kernelCopy = true;

    internal FileData(
        string path, SafeFileHandle dataFile, ZoneMemory memory, ZoneWriter writer, InodeTable inodes, PageTables tables,
        InodeLockWords lockWords, PeerTable peers, Lock gate)
    {
        _path = path;
        _dataFile = dataFile;
        _memory = memory;
        _writer = writer;
        _inodes = inodes;
        _tables = tables;
        _lockWords = lockWords;
        _peers = peers;
        _gate = gate;
    }

    /// <summary>Largest file offset a page table can index (depth 4): 256 TiB (SGZ_FILE_SIZE_MAX).</summary>
    public const ulong MaxFileSize = SgzAbi.FileSizeMax;

    public int Read(ulong ino, ulong offset, Span<byte> buffer)
    {
        unsafe
        {
            fixed (byte* p = buffer)
            {
                var sink = new PointerSink(p);
                return (int)Read(ino, offset, (ulong)buffer.Length, sink, null);
            }
        }
    }

    /// <summary>Reads up to <paramref name="length"/> bytes (fewer at end-of-file); holes go to the sink as holes.</summary>
    public ulong Read(ulong ino, ulong offset, ulong length, IDataSink sink, Action<ulong>? progress)
    {
        lock (_gate)
        {
            var inode = _inodes.LoadLive(ino);
            RequireFile(ino, inode);
            if (offset >= inode.Size)
            {
                return 0;
            }

            ulong end = offset + Math.Min(length, inode.Size - offset);
            for (ulong pos = offset; pos < end;)
            {
                var extent = _tables.Map(ino, inode, pos);
                ulong n = Math.Min(Math.Min(extent.Length, end - pos), SgzAbi.AllocateMax);
                if (extent.IsHole)
                {
                    sink.Hole(pos - offset, n);
                }
                else
                {
                    ulong copied = sink is FileSink file && extent.ZoneOffset >= _memory.StructureLength ? KernelCopy(_dataFile, DataFileOffset(extent.ZoneOffset), file.Handle, pos - offset, n) : 0;
                    if (copied < n)
                    {
                        sink.Write(_memory.Span(extent.ZoneOffset + copied, n - copied), pos - offset + copied);
                    }
                }

                pos += n;
                progress?.Invoke(pos - offset);
            }

            return end - offset;
        }
    }

    public void Write(ulong ino, ulong offset, ReadOnlySpan<byte> data, int slot = SgzAbi.HostPeerSlot)
    {
        unsafe
        {
            fixed (byte* p = data)
            {
                Write(ino, offset, (ulong)data.Length, new PointerSource(p), null, slot);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="length"/> bytes from <paramref name="source"/> at <paramref name="offset"/>,
    /// allocating as needed in the partition of peer <paramref name="slot"/> (the host's by default).
    /// </summary>
    public void Write(ulong ino, ulong offset, ulong length, IDataSource source, Action<ulong>? progress, int slot = SgzAbi.HostPeerSlot)
    {
        lock (_gate)
        {
            var inode = _inodes.LoadLive(ino);
            RequireFile(ino, inode);
            if (length == 0)
            {
                return;
            }

            if (offset > MaxFileSize || length > MaxFileSize - offset)
            {
                throw new ZoneException(ZoneError.FileTooLarge, $"a write at {offset} of {length} bytes passes the largest file size, {Units.Bytes(MaxFileSize)}");
            }

            _lockWords.TakeAsHost(ino);
            try
            {
                WriteHoldingLock(ino, offset, length, source, progress, slot, inode);
            }
            finally
            {
                // The command line serves no guests to ring; a waiting guest polls.
                _lockWords.ReleaseAsHost(ino);
            }
        }
    }

    private void WriteHoldingLock(ulong ino, ulong offset, ulong length, IDataSource source, Action<ulong>? progress, int slot, SgzInode inode)
    {
        // The fold comes first, before this write raises alloc_end: a hint is bounded by the allocation it was written in.
        _writer.Change(() => _inodes.Fold(ino));
        ulong end = offset + length;
        bool large = Math.Max(inode.Size, end) >= ZoneGeometry.ChunkSize;
        for (ulong batch = offset; batch < end; batch += SgzAbi.AllocateMax)
        {
            ulong from = batch;
            _writer.Change(() =>
            {
                ulong to = Math.Min(end, from + SgzAbi.AllocateMax);
                _tables.Populate(ino, from, to, slot, ChunkLeaves(ino, from, to, large));
                RaiseAllocEnd(ino, to);
            });
        }

        if (offset > inode.Size)
        {
            ZeroAllocated(ino, inode.Size, offset);
        }

        for (ulong pos = offset; pos < end;)
        {
            var extent = _tables.MapAllocated(ino, _inodes.Load(ino), pos);

            ulong n = Math.Min(Math.Min(extent.Length, end - pos), SgzAbi.AllocateMax);
            ulong copied = source is FileSource file && extent.ZoneOffset >= _memory.StructureLength ? KernelCopy(file.Handle, pos - offset, _dataFile, DataFileOffset(extent.ZoneOffset), n) : 0;
            if (copied < n)
            {
                source.CopyTo(_memory.Span(extent.ZoneOffset + copied, n - copied), pos - offset + copied);
            }

            pos += n;
            progress?.Invoke(pos - offset);
        }

        _writer.Change(() =>
        {
            ref var w = ref _inodes.ForWrite(ino);
            w.Size = Math.Max(w.Size, end);
            w.MtimeNs = w.CtimeNs = ZoneClock.NowNs();
        });
    }

    /// <summary>
    /// The host's own truncate: sets the size (shrinking frees whole pages and chunks past the
    /// end and zeroes the rest of the last ones, growing leaves a hole), holding the inode's
    /// lock word as slot 0 so that no guest's size-changing write runs across it. Returns
    /// true when a guest marked itself waiting for that word: the caller, if it serves
    /// guests, rings them (the command line, which runs with no service, has none to ring).
    /// </summary>
    public bool Truncate(ulong ino, ulong size)
    {
        bool waiters;
        lock (_gate)
        {
            var inode = _inodes.LoadLive(ino);
            RequireFile(ino, inode);
            CheckFileSize(size);
            _lockWords.TakeAsHost(ino);
            try
            {
                _writer.Change(() =>
                {
                    _inodes.Fold(ino);
                    Resize(ino, size);
                });
            }
            finally
            {
                waiters = _lockWords.ReleaseAsHost(ino);
            }
        }

        return waiters;
    }

    /// <summary>Copies a whole host file into a zone file (which it truncates first).</summary>
    public void Import(ulong ino, SafeFileHandle file, Action<ulong>? progress)
    {
        ulong length = (ulong)RandomAccess.GetLength(file);
        Truncate(ino, 0);
        Write(ino, 0, length, new FileSource(file), progress);
    }

    /// <summary>Copies a whole zone file into a host file, keeping holes as holes.</summary>
    public ulong Export(ulong ino, SafeFileHandle file, Action<ulong>? progress)
    {
        ulong size;
        lock (_gate)
        {
            size = _inodes.LoadLive(ino).Size;
        }

        RandomAccess.SetLength(file, 0);
        ulong n = Read(ino, 0, size, new FileSink(file), progress);
        RandomAccess.SetLength(file, (long)n);
        return n;
    }

    /// <summary>Where a zone offset in Z.data lies in that file (the caller has checked it is in Z.data).</summary>
    private ulong DataFileOffset(ulong zoneOffset) => zoneOffset - _memory.StructureLength;

    /// <summary>
    /// Copies in the kernel with copy_file_range, as cp does: one copy and no page faults
    /// on this process's mapping (the zone file's pages are the mapping's pages). Returns
    /// how much it copied; less than asked where the file systems cannot (hugetlbfs has no
    /// write path), and the caller copies the rest through the mapping.
    /// </summary>
    private ulong KernelCopy(SafeFileHandle from, ulong fromOffset, SafeFileHandle to, ulong toOffset, ulong length)
    {
        if (!_kernelCopy)
        {
            return 0;
        }

        long inOff = (long)fromOffset;
        long outOff = (long)toOffset;
        int fdIn = (int)from.DangerousGetHandle();
        int fdOut = (int)to.DangerousGetHandle();
        ulong done = 0;
        while (done < length)
        {
            nint n = Libc.CopyFileRange(fdIn, ref inOff, fdOut, ref outOff, (nuint)(length - done), 0);
            int errno = Sys.ErrnoOf(n);
            if (errno != 0 || n == 0)
            {
                _kernelCopy = errno == 0; // a short source ends here; EXDEV, EINVAL and friends end kernel copies for good
                break;
            }

            done += (ulong)n;
        }

        return done;
    }

    /// <summary>Zeroes the allocated bytes of [from, to) of a file (space past its end a write or copy exposes).</summary>
    internal void ZeroAllocated(ulong ino, ulong from, ulong to)
    {
        var inode = _inodes.Load(ino);
        for (ulong pos = from; pos < to;)
        {
            var extent = _tables.Map(ino, inode, pos);
            ulong n = Math.Min(extent.Length, to - pos);
            if (!extent.IsHole)
            {
                _writer.ZeroRange(extent.ZoneOffset, n);
            }

            pos += n;
        }
    }

    internal static void RequireFile(ulong ino, in SgzInode inode)
    {
        if (InodeTable.IsDirectory(inode))
        {
            throw new ZoneException(ZoneError.IsDirectory, $"inode {ino} is a directory");
        }

        if ((inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIfreg)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"inode {ino} is not a regular file");
        }
    }

    private sealed unsafe class PointerSource(byte* data) : IDataSource
    {
        public void CopyTo(Span<byte> target, ulong sourceOffset) =>
            new ReadOnlySpan<byte>(data + sourceOffset, target.Length).CopyTo(target);
    }

    private sealed unsafe class PointerSink(byte* data) : IDataSink
    {
        public void Write(ReadOnlySpan<byte> bytes, ulong sinkOffset) =>
            bytes.CopyTo(new Span<byte>(data + sinkOffset, bytes.Length));

        public void Hole(ulong sinkOffset, ulong length) => new Span<byte>(data + sinkOffset, checked((int)length)).Clear();
    }

    private sealed class FileSource(SafeFileHandle file) : IDataSource
    {
        public SafeFileHandle Handle => file;

        public void CopyTo(Span<byte> target, ulong sourceOffset)
        {
            while (target.Length > 0)
            {
                int n = RandomAccess.Read(file, target, (long)sourceOffset);
                if (n == 0)
                {
                    throw new IOException("the source file shrank while it was being copied");
                }

                target = target[n..];
                sourceOffset += (ulong)n;
            }
        }
    }

    private sealed class FileSink(SafeFileHandle file) : IDataSink
    {
        public SafeFileHandle Handle => file;

        public void Write(ReadOnlySpan<byte> data, ulong sinkOffset) => RandomAccess.Write(file, data, (long)sinkOffset);

        public void Hole(ulong sinkOffset, ulong length)
        {
        }
    }

    /// <summary>
    /// Changes mode (its permission bits; the type stays), owner, group, size (regular
    /// files: a truncate) and times, or drops set-user-id and set-group-id (kill privs);
    /// ctime always becomes now. Every check (<see cref="AttributeChange.Check"/>) runs
    /// first; one change. Returns the size after.
    /// </summary>
    public ulong SetAttributes(Caller c, NodeRef node, AttributeChange change)
    {
        if ((change.Valid & ~SgzAbi.AttrKnown) != 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"setattr of inode {node.Ino}: unknown valid bits 0x{change.Valid & ~SgzAbi.AttrKnown:x}");
        }

        lock (_gate)
        {
            var inode = _inodes.LoadNode(node);
            bool has(uint bit) => (change.Valid & bit) != 0;
            if (has(SgzAbi.AttrSize))
            {
                RequireFile(node.Ino, inode);
                CheckFileSize(change.Size);
            }

            change.Check(c, node.Ino, inode);
            if (change.Access)
            {
                // A read's atime: no fold and no lock word (size and mtime stay as they are), no ctime.
                ulong atime = Math.Max(ZoneClock.NowNs(), _inodes.ChangeTime(node.Ino));
                return _writer.Change(() =>
                {
                    ref var w = ref _inodes.ForWrite(node.Ino);
                    w.AtimeNs = Math.Max(atime, w.MtimeNs + 1);
                    return w.Size;
                });
            }

            // A change of size or times folds the hint first, holding the lock word (a guest that
            // truncates holds it already and asks; anyone else's hold defers the request).
            bool times = (change.Valid & (SgzAbi.AttrSize | SgzAbi.AttrMtime | SgzAbi.AttrAtime)) != 0 && (inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfreg;
            if (!times)
            {
                return _writer.Change(() => Apply(c, node, change));
            }

            return _lockWords.ChangeHolding(node.Ino, c.Slot, () =>
            {
                _inodes.Fold(node.Ino);
                return Apply(c, node, change);
            });
        }
    }

    /// <summary>
    /// Sets <paramref name="node"/>'s ctime to <paramref name="ctimeNs"/>, a time it had in
    /// another zone (`zone migrate` carries a format 1 inode's), in one change that touches no
    /// other field. Not a request: no guest can set a ctime.
    /// </summary>
    public void CarryCtime(NodeRef node, ulong ctimeNs)
    {
        lock (_gate)
        {
            _inodes.LoadNode(node);
            _writer.Change(() => { _inodes.ForWrite(node.Ino).CtimeNs = ctimeNs; });
        }
    }

    /// <summary>The body of a setattr's change.</summary>
    private ulong Apply(Caller c, NodeRef node, AttributeChange change)
    {
        bool has(uint bit) => (change.Valid & bit) != 0;
        ulong now = _inodes.ChangeTime(node.Ino);
        if (has(SgzAbi.AttrSize))
        {
            Resize(node.Ino, change.Size);
        }

        ref var w = ref _inodes.ForWrite(node.Ino);
        w.Mode = change.ModeAfter(c, w.Mode, w.Uid, w.Gid);
        w.Uid = has(SgzAbi.AttrUid) ? change.Uid : w.Uid;
        w.Gid = has(SgzAbi.AttrGid) ? change.Gid : w.Gid;
        w.AtimeNs = has(SgzAbi.AttrAtime) ? TimeOrNow(change.AtimeNs, now) : w.AtimeNs;
        w.MtimeNs = has(SgzAbi.AttrMtime) ? TimeOrNow(change.MtimeNs, now) : w.MtimeNs;
        w.CtimeNs = now;
        return w.Size;
    }

    /// <summary>
    /// Raises a regular file's alloc_end to cover an allocation ending at <paramref name="end"/>
    /// (rounded up to 2 MiB: an upper bound of what is allocated, never below it); inside a change.
    /// </summary>
    internal void RaiseAllocEnd(ulong ino, ulong end)
    {
        ulong bound = Math.Min(Units.RoundUp(end, ZoneGeometry.ChunkSize), MaxFileSize);
        if (_inodes.Load(ino).AllocEnd < bound)
        {
            _inodes.ForWrite(ino).AllocEnd = bound;
        }
    }


    /// <summary>
    /// Fills every hole in [offset, offset + length) of a regular file and allocates ahead:
    /// under 2 MiB the end rounds up to a power of two of 4 KiB pages, from 2 MiB on to the
    /// next 2 MiB chunk. Pages come from <see cref="Caller.Slot"/>'s partition. One change;
    /// returns the allocated end.
    /// </summary>
    public ulong Allocate(Caller c, NodeRef file, ulong offset, ulong length)
    {
        CheckRange("allocate", file, offset, length);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            RequireWritableFile(c, file, "allocate");
            ulong want = offset + length;
            ulong end = AllocationEnd(want);
            bool large = end >= ZoneGeometry.ChunkSize;
            var leaves = ChunkLeaves(file.Ino, offset, want, large);
            if (want > ZoneGeometry.ChunkSize && !leaves((want - 1) / ZoneGeometry.ChunkSize))
            {
                // An island (a sparse write far from the file's data): its pages only, no chunk ahead.
                end = Units.RoundUp(want, ZoneGeometry.PageSize);
            }

            // Never the lock word: the asking guest holds it around its write.
            _writer.Change(() =>
            {
                _tables.Populate(file.Ino, offset, end, c.Slot, leaves);
                RaiseAllocEnd(file.Ino, end);
            });
            return end;
        }
    }

    /// <summary>A range an ALLOCATE or PUNCH may name: 1..SGZ_ALLOCATE_MAX bytes, inside the largest file.</summary>
    private static void CheckRange(string op, NodeRef file, ulong offset, ulong length)
    {
        if (length == 0 || length > SgzAbi.AllocateMax)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{op} in inode {file.Ino}: length {length} is not 1..{SgzAbi.AllocateMax}");
        }

        if (offset > MaxFileSize || length > MaxFileSize - offset)
        {
            throw new ZoneException(ZoneError.FileTooLarge, $"{op} in inode {file.Ino}: {offset}+{length} passes the largest file size, {Units.Bytes(MaxFileSize)}");
        }
    }

    /// <summary>The live regular file <paramref name="file"/>, which <paramref name="c"/> may write. The zone's lock is held.</summary>
    private void RequireWritableFile(Caller c, NodeRef file, string op)
    {
        var inode = _inodes.LoadNode(file);
        RequireFile(file.Ino, inode);
        Permissions.RequireMay(c, file.Ino, inode, Permissions.MayWrite, $"{op} in inode {file.Ino}");
    }

    /// <summary>
    /// fallocate's PUNCH_HOLE: frees the pages wholly inside [<paramref name="offset"/>,
    /// offset + <paramref name="length"/>) (a 2 MiB leaf only if wholly inside) and zeroes what
    /// stays allocated of the range once the change commits; the size stays, mtime and ctime
    /// move. Freed pages go through the grace period as a truncate's do. The asking guest
    /// holds the inode's lock word, as around a truncate. One change.
    /// </summary>
    public void Punch(Caller c, NodeRef file, ulong offset, ulong length)
    {
        CheckRange("punch", file, offset, length);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            RequireWritableFile(c, file, "punch");
            ulong end = offset + length;
            _writer.Change(() =>
            {
                ulong now = _inodes.ChangeTime(file.Ino);
                _tables.FreeRange(file.Ino, Units.RoundUp(offset, ZoneGeometry.PageSize), end / ZoneGeometry.PageSize * ZoneGeometry.PageSize);
                var kept = _inodes.Load(file.Ino);
                for (ulong pos = offset; pos < end;)
                {
                    var extent = _tables.Map(file.Ino, kept, pos);
                    ulong n = Math.Min(extent.Length, end - pos);
                    if (!extent.IsHole)
                    {
                        _writer.ZeroAfterCommit(new ZoneRegion(extent.ZoneOffset, n));
                    }

                    pos += n;
                }

                ref var w = ref _inodes.ForWrite(file.Ino);
                w.MtimeNs = w.CtimeNs = now;
            });
        }
    }

    /// <summary>
    /// Which chunks of a fill of [<paramref name="offset"/>, <paramref name="end"/>) get one 2 MiB
    /// leaf (PMD-mappable) rather than 4 KiB pages: chunk 0 once the file reaches past it
    /// (<paramref name="large"/>); any other chunk unless it is an island, one the fill enters
    /// at its start's far side, covers less than half of, and whose previous byte is a hole
    /// (a sparse write far from the file's data: it gets only the pages written, as tmpfs and
    /// ext4 give).
    /// </summary>
    internal Func<ulong, bool> ChunkLeaves(ulong ino, ulong offset, ulong end, bool large) => chunk =>
    {
        if (chunk == 0)
        {
            return large;
        }

        ulong start = chunk * ZoneGeometry.ChunkSize;
        ulong covered = Math.Min(end, start + ZoneGeometry.ChunkSize) - Math.Max(offset, start);
        return offset < start || covered >= ZoneGeometry.ChunkSize / 2 || !_tables.Map(ino, _inodes.Load(ino), start - 1).IsHole;
    };

    /// <summary>Where an allocation that must reach <paramref name="end"/> stops (see <see cref="Allocate"/>).</summary>
    internal static ulong AllocationEnd(ulong end)
    {
        if (end >= ZoneGeometry.ChunkSize)
        {
            return Math.Min(Units.RoundUp(end, ZoneGeometry.ChunkSize), MaxFileSize);
        }

        ulong pages = (end + ZoneGeometry.PageSize - 1) / ZoneGeometry.PageSize;
        return System.Numerics.BitOperations.RoundUpToPowerOf2(pages) * ZoneGeometry.PageSize;
    }

    private static ulong TimeOrNow(ulong value, ulong now) => value == SgzAbi.TimeNow ? now : value;

    private static void CheckFileSize(ulong size)
    {
        if (size > MaxFileSize)
        {
            throw new ZoneException(ZoneError.FileTooLarge, $"size {size} passes the largest file size, {Units.Bytes(MaxFileSize)}");
        }
    }

    /// <summary>
    /// Sets a regular file's size, and its mtime and ctime to now; inside a change. Shrinking
    /// frees whole pages past the end and, once the change commits, zeroes what stays
    /// allocated past the new end (the tail of the last page, the rest of a 2 MiB leaf), so
    /// allocated bytes past the end always read as zeros. Growing zeroes what it exposes.
    /// </summary>
    private void Resize(ulong ino, ulong size)
    {
        var inode = _inodes.Load(ino);
        if (size < inode.Size)
        {
            _tables.FreeFrom(ino, Units.RoundUp(size, ZoneGeometry.PageSize));
            var kept = _inodes.Load(ino);
            ulong tailEnd = Units.RoundUp(size, ZoneGeometry.ChunkSize);
            for (ulong pos = size; pos < tailEnd;)
            {
                var extent = _tables.Map(ino, kept, pos);
                ulong n = Math.Min(extent.Length, tailEnd - pos);
                if (!extent.IsHole)
                {
                    _writer.ZeroAfterCommit(new ZoneRegion(extent.ZoneOffset, n));
                }

                pos += n;
            }
        }
        else if (size > inode.Size)
        {
            ZeroAllocated(ino, inode.Size, size);
        }

        ref var w = ref _inodes.ForWrite(ino);
        w.Size = size;
        w.MtimeNs = w.CtimeNs = ZoneClock.NowNs();
        w.AllocEnd = w.Pages == 0 ? 0 : Math.Min(w.AllocEnd, Units.RoundUp(size, ZoneGeometry.ChunkSize));
    }
}
