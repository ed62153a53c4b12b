using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// A regular file of the zone mapped into this process as one contiguous range of memory,
/// with no copy: the host's form of the graft a guest's mmap gets from the module. A range of
/// addresses is reserved, then each extent of the file's page table is mapped from the data
/// file at its place, so the file's bytes are at <see cref="Address"/> + offset. Reads and
/// stores are the zone's memory itself: a guest's store shows at once, and the reverse.
/// Holes read as zeros and are read-only: <see cref="Allocate"/> or <see cref="Grow"/> fills
/// them first. Only the zone's writer maps (a program that opened the zone for writing, or
/// code inside `stargate serve`): it frees pages itself, and takes this process's mappings
/// off a range before freeing it, so a truncate or unlink (a guest's too) never leaves a
/// mapping onto pages another file may get; the range then reads as zeros.
/// Members take the zone's lock; dispose before the zone.
/// </summary>
public sealed class ZoneFileMapping : IDisposable
{
    private const ulong HugePage = 2UL << 20;

    private readonly Zone _zone;
    private readonly bool _writable;
    private nint _reservation;
    private ulong _reserved;

    private ZoneFileMapping(Zone zone, NodeRef file, bool writable, ulong capacity)
    {
        _zone = zone;
        File = file;
        _writable = writable;
        Capacity = capacity;
    }

    /// <summary>The mapped file.</summary>
    public NodeRef File { get; }

    /// <summary>The first byte of the file.</summary>
    public nint Address { get; private set; }

    /// <summary>The file's size now (0 once its inode is gone): the bytes from <see cref="Address"/> on that are the file's.</summary>
    public ulong Size
    {
        get
        {
            using (_zone.Exclusive())
            {
                try
                {
                    return _zone.Inodes.LoadNode(File).Size;
                }
                catch (ZoneException e) when (e.Error == ZoneError.Stale)
                {
                    return 0;
                }
            }
        }
    }

    /// <summary>The most the file may grow to here (<see cref="Grow"/>): the reserved range.</summary>
    public ulong Capacity { get; }

    /// <summary>
    /// Maps the regular file at <paramref name="path"/>; <paramref name="capacity"/> (at least
    /// the size, rounded up to 2 MiB) is the address range kept for growing it in place.
    /// </summary>
    public static ZoneFileMapping Map(Zone zone, string path, bool writable, ulong capacity = 0)
    {
        ulong ino = zone.Names.Resolve(path);
        return Map(zone, new NodeRef(ino, zone.Names.StatInode(ino).Generation), writable, capacity);
    }

    public static ZoneFileMapping Map(Zone zone, NodeRef file, bool writable, ulong capacity = 0)
    {
        if (!zone.IsWritable)
        {
            throw new ZoneException(ZoneError.ReadOnly,
                $"{zone.Path}: only the zone's writer maps its files (it must learn of every free of their pages first); open the zone for writing, or map inside stargate serve");
        }

        using (zone.Exclusive())
        {
            var inode = zone.Inodes.LoadNode(file);
            FileData.RequireFile(file.Ino, inode);
            ulong reserve = Units.RoundUp(Math.Max(capacity, Math.Max(inode.Size, 1)), HugePage);
            var mapping = new ZoneFileMapping(zone, file, writable, reserve);
            try
            {
                mapping.Reserve();
                mapping.MapRange(0, Units.RoundUp(inode.Size, ZoneGeometry.PageSize));
                zone.Mappings.Add(mapping);
            }
            catch
            {
                mapping.Release();
                throw;
            }

            return mapping;
        }
    }

    /// <summary>The file's bytes [<paramref name="offset"/>, +<paramref name="length"/>) as a span over the zone's memory.</summary>
    public unsafe Span<byte> Span(ulong offset, int length)
    {
        ObjectDisposedException.ThrowIf(Address == 0, this);
        if (length < 0 || offset > Size || (ulong)length > Size - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, +{length}) is outside the file's {Size} bytes");
        }

        return new Span<byte>((byte*)Address + offset, length);
    }

    /// <summary>Fills the holes of [<paramref name="offset"/>, +<paramref name="length"/>) inside the file (pages from the host's partition), so that stores there land.</summary>
    public void Allocate(ulong offset, ulong length)
    {
        using (_zone.Exclusive())
        {
            if (offset > Size || length > Size - offset)
            {
                throw new ZoneException(ZoneError.InvalidArgument, $"allocate [{offset}, +{length}) is outside the file's {Size} bytes (grow it instead)");
            }

            _zone.Files.Allocate(Caller.Host, File, offset, length);
            MapRange(Units.RoundDown(offset, ZoneGeometry.PageSize), Units.RoundUp(offset + length, ZoneGeometry.PageSize));
        }
    }

    /// <summary>Makes the file <paramref name="size"/> bytes long, every new byte allocated (zeros), and maps them; at most <see cref="Capacity"/>. A smaller size changes nothing.</summary>
    public void Grow(ulong size)
    {
        using (_zone.Exclusive())
        {
            if (size > Capacity)
            {
                throw new ZoneException(ZoneError.FileTooLarge, $"grow to {size} bytes: the mapping keeps {Capacity} (map again with a larger capacity)");
            }

            ulong current = _zone.Inodes.LoadNode(File).Size;
            if (size <= current)
            {
                return;
            }

            _zone.Files.Allocate(Caller.Host, File, current, size - current);
            _zone.Files.SetAttributes(Caller.Host, File, new AttributeChange(SgzAbi.AttrSize, 0, 0, 0, size, 0, 0));
            MapRange(Units.RoundDown(current, ZoneGeometry.PageSize), Units.RoundUp(size, ZoneGeometry.PageSize));
        }
    }

    public void Dispose()
    {
        using (_zone.Exclusive())
        {
            _zone.Mappings.Remove(this);
            Release();
        }
    }

    /// <summary>Pages [<paramref name="from"/>, <paramref name="to"/>) of the file are being freed: they read as zeros here from now on.</summary>
    internal void Revoke(ulong from, ulong to)
    {
        ulong start = Units.RoundUp(from, ZoneGeometry.PageSize);
        ulong end = Math.Min(to == ulong.MaxValue ? Capacity : Units.RoundDown(to, ZoneGeometry.PageSize), Capacity);
        if (start < end)
        {
            MapZeros(start, end - start);
        }
    }

    private void Reserve()
    {
        // Reserved with 2 MiB to spare, so that the file's first byte sits on a 2 MiB boundary and its 2 MiB leaves map as huge pages.
        _reserved = Capacity + HugePage;
        _reservation = Libc.Mmap(0, (nuint)_reserved, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        if (_reservation == Libc.MAP_FAILED)
        {
            _reservation = 0;
            throw new NativeException("mmap", $"a reservation of {_reserved} bytes", Marshal.GetLastPInvokeError());
        }

        Address = (nint)Units.RoundUp((ulong)_reservation, HugePage);
    }

    /// <summary>Maps the file's pages [<paramref name="from"/>, <paramref name="to"/>) at their places: extents from the data file, holes as zeros.</summary>
    private void MapRange(ulong from, ulong to)
    {
        var inode = _zone.Inodes.LoadNode(File);
        long dataStart = (long)_zone.Memory.StructureLength;
        for (ulong pos = from; pos < to;)
        {
            var extent = _zone.PageTables.Map(File.Ino, inode, pos);
            ulong length = Math.Min(extent.Length, to - pos);
            if (extent.IsHole)
            {
                MapZeros(pos, length);
            }
            else
            {
                if (extent.ZoneOffset < (ulong)dataStart)
                {
                    throw new ZoneCorruptException($"{_zone.Path}: inode {File.Ino}: offset {pos} is in the structure file, not the data file");
                }

                int protection = Libc.PROT_READ | (_writable ? Libc.PROT_WRITE : 0);
                nint at = Libc.Mmap(Address + (nint)pos, (nuint)length, protection, Libc.MAP_SHARED | Libc.MAP_FIXED,
                    (int)_zone.DataFile.DangerousGetHandle(), (long)extent.ZoneOffset - dataStart);
                if (at == Libc.MAP_FAILED)
                {
                    throw new NativeException("mmap", $"{ZoneFiles.DataPath(_zone.Path)} at {(long)extent.ZoneOffset - dataStart}", Marshal.GetLastPInvokeError());
                }
            }

            pos += length;
        }
    }

    private void MapZeros(ulong offset, ulong length)
    {
        nint at = Libc.Mmap(Address + (nint)offset, (nuint)length, Libc.PROT_READ, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_FIXED | Libc.MAP_NORESERVE, -1, 0);
        if (at == Libc.MAP_FAILED)
        {
            throw new NativeException("mmap", "zeros over a freed range", Marshal.GetLastPInvokeError());
        }
    }

    private void Release()
    {
        if (_reservation != 0)
        {
            Libc.Munmap(_reservation, (nuint)_reserved);
            _reservation = 0;
        }

        Address = 0;
    }
}

/// <summary>The live <see cref="ZoneFileMapping"/>s of a zone in this process, by inode; used in the zone's lock.</summary>
internal sealed class ZoneFileMappings(Lock gate)
{
    private readonly Dictionary<ulong, List<ZoneFileMapping>> _byInode = [];

    public void Add(ZoneFileMapping mapping)
    {
        lock (gate)
        {
            if (!_byInode.TryGetValue(mapping.File.Ino, out var list))
            {
                _byInode[mapping.File.Ino] = list = [];
            }

            list.Add(mapping);
        }
    }

    public void Remove(ZoneFileMapping mapping)
    {
        lock (gate)
        {
            if (_byInode.TryGetValue(mapping.File.Ino, out var list) && list.Remove(mapping) && list.Count == 0)
            {
                _byInode.Remove(mapping.File.Ino);
            }
        }
    }

    /// <summary>PageTables.Freeing: every mapping of <paramref name="ino"/> lets go of [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public void Revoke(ulong ino, ulong from, ulong to)
    {
        if (_byInode.TryGetValue(ino, out var list))
        {
            foreach (var mapping in list)
            {
                mapping.Revoke(from, to);
            }
        }
    }
}
