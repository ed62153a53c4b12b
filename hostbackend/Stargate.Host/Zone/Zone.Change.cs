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
        _change = new ChangeState();
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

    /// <summary>The inode, journalled and with seq made odd for the rest of the change.</summary>
    internal ref SgzInode InodeForWrite(ulong ino)
    {
        var change = CurrentChange();
        CheckInodeNumber(ino);
        ulong at = Geometry.InodeOffset(ino);
        ref var inode = ref _memory.Ref<SgzInode>(at);
        if (change.DirtyInodes.Add(ino))
        {
            _journal!.Protect(at, SgzAbi.InodeSize);
            Volatile.Write(ref inode.Seq, inode.Seq | 1);
        }

        return ref inode;
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
