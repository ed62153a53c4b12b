using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zone;

/// <summary>
/// File data. A write first allocates what it needs (in changes of at most
/// 1 GiB each, so any one change fits the journal), then copies the data
/// straight into the zone, then raises size and mtime in a last change: a
/// writer killed midway leaves the old size, never a size over missing data.
/// Allocated bytes past end-of-file read as zeros: shrinking zeroes the tail it
/// keeps, and growing zeroes what it exposes (a writer that died past the end).
/// </summary>
public sealed partial class Zone
{
    private const ulong AllocationBatch = 1UL << 30;

    /// <summary>False once copy_file_range has failed on this zone's file system.</summary>
    private bool _kernelCopy = true;

    /// <summary>Where a write's bytes come from.</summary>
    public interface IDataSource
    {
        /// <summary>Fills <paramref name="target"/> with the bytes at <paramref name="sourceOffset"/> of the source.</summary>
        void CopyTo(Span<byte> target, ulong sourceOffset);
    }

    /// <summary>Where a read's bytes go.</summary>
    public interface IDataSink
    {
        void Write(ReadOnlySpan<byte> data, ulong sinkOffset);

        /// <summary>A hole of <paramref name="length"/> zero bytes at <paramref name="sinkOffset"/>.</summary>
        void Hole(ulong sinkOffset, ulong length);
    }

    /// <summary>Largest file offset a page table can index (depth 4): 256 TiB.</summary>
    public static ulong MaxFileSize => Capacity(SgzAbi.PtMaxDepth);

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
        lock (Sync)
        {
            var inode = LoadLiveInode(ino);
            RequireFile(ino, inode);
            if (offset >= inode.Size)
            {
                return 0;
            }

            ulong end = offset + Math.Min(length, inode.Size - offset);
            for (ulong pos = offset; pos < end;)
            {
                var extent = Map(ino, inode, pos);
                ulong n = Math.Min(Math.Min(extent.Length, end - pos), AllocationBatch);
                if (extent.IsHole)
                {
                    sink.Hole(pos - offset, n);
                }
                else
                {
                    ulong copied = sink is FileSink file ? KernelCopy(_file, extent.ZoneOffset, file.Handle, pos - offset, n) : 0;
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

    public void Write(ulong ino, ulong offset, ReadOnlySpan<byte> data, int slot = HostSlot)
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
    public void Write(ulong ino, ulong offset, ulong length, IDataSource source, Action<ulong>? progress, int slot = HostSlot)
    {
        lock (Sync)
        {
            var inode = LoadLiveInode(ino);
            RequireFile(ino, inode);
            if (length == 0)
            {
                return;
            }

            if (offset > MaxFileSize || length > MaxFileSize - offset)
            {
                throw new ZoneException(ZoneError.FileTooLarge, $"a write at {offset} of {length} bytes passes the largest file size, {Units.Bytes(MaxFileSize)}");
            }

            ulong end = offset + length;
            bool large = Math.Max(inode.Size, end) >= ZoneGeometry.ChunkSize;
            for (ulong batch = offset; batch < end; batch += AllocationBatch)
            {
                ulong from = batch;
                Change(() => Populate(ino, from, Math.Min(end, from + AllocationBatch), slot, chunk => chunk > 0 || large));
            }

            if (offset > inode.Size)
            {
                ZeroAllocated(ino, inode.Size, offset);
            }

            for (ulong pos = offset; pos < end;)
            {
                var extent = Map(ino, LoadInode(ino), pos);
                if (extent.IsHole)
                {
                    throw new ZoneCorruptException($"{Path}: inode {ino}: offset {pos} is unmapped right after allocation");
                }

                ulong n = Math.Min(Math.Min(extent.Length, end - pos), AllocationBatch);
                ulong copied = source is FileSource file ? KernelCopy(file.Handle, pos - offset, _file, extent.ZoneOffset, n) : 0;
                if (copied < n)
                {
                    source.CopyTo(_memory.Span(extent.ZoneOffset + copied, n - copied), pos - offset + copied);
                }

                pos += n;
                progress?.Invoke(pos - offset);
            }

            Change(() =>
            {
                ref var w = ref InodeForWrite(ino);
                w.Size = Math.Max(w.Size, end);
                w.MtimeNs = w.CtimeNs = ZoneClock.NowNs();
            });
        }
    }

    /// <summary>
    /// The host's own truncate: sets the size (shrinking frees whole pages and chunks past the
    /// end and zeroes the rest of the last ones, growing leaves a hole), holding the inode's
    /// lock word as slot 0 so that no guest's size-changing write runs across it.
    /// </summary>
    public void Truncate(ulong ino, ulong size)
    {
        lock (Sync)
        {
            var inode = LoadLiveInode(ino);
            RequireFile(ino, inode);
            CheckFileSize(size);
            TakeInodeLock(ino);
            try
            {
                Change(() => Resize(ino, size));
            }
            finally
            {
                ReleaseInodeLock(ino);
            }
        }
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
        ulong size = StatInode(ino).Size;
        RandomAccess.SetLength(file, 0);
        ulong n = Read(ino, 0, size, new FileSink(file), progress);
        RandomAccess.SetLength(file, (long)n);
        return n;
    }

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
            nint n = 0;
            int errno = Sys.Try(() => n = Libc.CopyFileRange(fdIn, ref inOff, fdOut, ref outOff, (nuint)(length - done), 0));
            if (errno != 0 || n == 0)
            {
                _kernelCopy = errno == 0; // a short source ends here; EXDEV, EINVAL and friends end kernel copies for good
                break;
            }

            done += (ulong)n;
        }

        return done;
    }

    private void ZeroAllocated(ulong ino, ulong from, ulong to)
    {
        var inode = LoadInode(ino);
        for (ulong pos = from; pos < to;)
        {
            var extent = Map(ino, inode, pos);
            ulong n = Math.Min(extent.Length, to - pos);
            if (!extent.IsHole)
            {
                ZeroRange(extent.ZoneOffset, n);
            }

            pos += n;
        }
    }

    private static void RequireFile(ulong ino, in SgzInode inode)
    {
        if (IsDirectory(inode))
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
}
