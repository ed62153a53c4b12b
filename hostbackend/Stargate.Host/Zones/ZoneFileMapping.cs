using Microsoft.Win32.SafeHandles;
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
/// them first.
/// </summary>
/// <remarks>
/// <para>
/// Whoever changes the file's page table (this process, a guest, the host mount) changes
/// the mapping too: once the change commits, the file's layout is mapped again (pages a
/// truncate or punch freed read as zeros from then on, pages a write into a hole or past the
/// end allocated are mapped). A mapping never reaches pages another file may get next.
/// </para>
/// <para>
/// Two ways to map. The zone's writer (a program that opened the zone for writing, or code
/// inside `stargate serve`) maps on its own: it sees every change as it makes it. Any other
/// process opens the zone read-only while `stargate serve` holds it: the mapping then asks
/// serve over its control socket (the service's own user or root only) for the file's layout,
/// for space (Allocate, Grow), and for every later layout of the file; serve keeps the pages
/// a change frees out of use (the grace period guests have) until this process has mapped
/// the new layout and said so. If serve stops, every mapping of the process reads zeros and
/// refuses to grow.
/// </para>
/// <para>Members are thread-safe; dispose before the zone.</para>
/// </remarks>
public sealed class ZoneFileMapping : IDisposable
{
    private readonly Zone _zone;
    private readonly bool _writable;
    private readonly SafeFileHandle _data;
    private readonly ServiceMappings? _service;
    private readonly Lock _gate = new();
    private nint _reservation;
    private ulong _reserved;
    private ulong _dataEnd;

    private ZoneFileMapping(Zone zone, NodeRef file, bool writable, ulong capacity, SafeFileHandle data, ServiceMappings? service)
    {
        _zone = zone;
        File = file;
        _writable = writable;
        Capacity = capacity;
        _data = data;
        _service = service;
    }

    /// <summary>The mapped file.</summary>
    public NodeRef File { get; }

    /// <summary>The first byte of the file.</summary>
    public nint Address { get; private set; }

    /// <summary>Serve's number for this mapping (service mappings only; 0 until serve answered).</summary>
    internal int Handle { get; set; }

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
        ServiceMappings? service = zone.IsWritable ? null : zone.MappingService();
        var data = service is null ? zone.DataFile : service.DataFile(writable);
        ZoneFileMapping mapping;
        using (zone.Exclusive())
        {
            var inode = zone.Inodes.LoadNode(file);
            FileData.RequireFile(file.Ino, inode);
            ulong reserve = Units.RoundUp(Math.Max(capacity, Math.Max(inode.Size, 1)), ZoneGeometry.ChunkSize);
            mapping = new ZoneFileMapping(zone, file, writable, reserve, data, service);
            try
            {
                mapping.Reserve();
                if (service is null)
                {
                    mapping.Apply(FileLayout.Of(zone, file));
                    zone.Mappings.Add(mapping);
                }
            }
            catch
            {
                mapping.Release();
                throw;
            }
        }

        if (service is not null)
        {
            try
            {
                service.Open(mapping);
            }
            catch
            {
                mapping.Release();
                throw;
            }
        }

        return mapping;
    }

    /// <summary>The file's bytes [<paramref name="offset"/>, +<paramref name="length"/>) as a span over the zone's memory.</summary>
    public unsafe Span<byte> Span(ulong offset, int length)
    {
        ObjectDisposedException.ThrowIf(Address == 0, this);
        ulong size = Math.Min(Size, Capacity);
        if (length < 0 || offset > size || (ulong)length > size - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, +{length}) is outside the file's {size} bytes (or this mapping's capacity)");
        }

        return new Span<byte>((byte*)Address + offset, length);
    }

    /// <summary>Fills the holes of [<paramref name="offset"/>, +<paramref name="length"/>) inside the file (pages from the host's partition), so that stores there land.</summary>
    public void Allocate(ulong offset, ulong length)
    {
        ulong size = Size;
        if (offset > size || length > size - offset)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"allocate [{offset}, +{length}) is outside the file's {size} bytes (grow it instead)");
        }

        if (_service is not null)
        {
            _service.Allocate(this, offset, length);
            return;
        }

        using (_zone.Exclusive())
        {
            _zone.Files.Allocate(Caller.Host, File, offset, length);
        }
    }

    /// <summary>Makes the file <paramref name="size"/> bytes long, every new byte allocated (zeros), and maps them; at most <see cref="Capacity"/>. A smaller size changes nothing.</summary>
    public void Grow(ulong size)
    {
        if (size > Capacity)
        {
            throw new ZoneException(ZoneError.FileTooLarge, $"grow to {size} bytes: the mapping keeps {Capacity} (map again with a larger capacity)");
        }

        if (_service is not null)
        {
            _service.Grow(this, size);
            return;
        }

        using (_zone.Exclusive())
        {
            GrowFile(_zone, File, size);
        }
    }

    /// <summary>Makes <paramref name="file"/> <paramref name="size"/> bytes long with every new byte allocated; a smaller size changes nothing. The zone's lock is held.</summary>
    internal static void GrowFile(Zone zone, NodeRef file, ulong size)
    {
        ulong current = zone.Inodes.LoadNode(file).Size;
        if (size <= current)
        {
            return;
        }

        zone.Files.Allocate(Caller.Host, file, current, size - current);
        zone.Files.SetAttributes(Caller.Host, file, new AttributeChange(SgzAbi.AttrSize, 0, 0, 0, size, 0, 0));
    }

    public void Dispose()
    {
        if (_service is not null)
        {
            _service.Close(this);
        }
        else
        {
            using (_zone.Exclusive())
            {
                _zone.Mappings.Remove(this);
            }
        }

        lock (_gate)
        {
            Release();
        }
    }

    /// <summary>The writer's own mapping: the file's layout changed in the change that just committed (zone lock held).</summary>
    internal void Refresh() => Apply(FileLayout.Of(_zone, File));

    /// <summary>
    /// Maps <paramref name="layout"/>: each run from the data file at its place (as far as the
    /// capacity), zeros where data was mapped before and is no more. A run already mapped is
    /// mapped again in place (MAP_FIXED replaces it at once), so a reader never sees zeros
    /// where data stays. Holes and everything past the runs read zeros from the start.
    /// </summary>
    internal void Apply(FileLayout layout)
    {
        lock (_gate)
        {
            if (_reservation == 0)
            {
                return;
            }

            ulong pos = 0;
            foreach (var run in layout.Runs)
            {
                if (run.FileOffset >= Capacity)
                {
                    break;
                }

                if (pos < run.FileOffset && pos < _dataEnd)
                {
                    MapZeros(pos, Math.Min(run.FileOffset, _dataEnd) - pos);
                }

                ulong length = Math.Min(run.Length, Capacity - run.FileOffset);
                MapData(run.FileOffset, length, run.DataOffset);
                pos = run.FileOffset + length;
            }

            if (pos < _dataEnd)
            {
                MapZeros(pos, _dataEnd - pos);
            }

            _dataEnd = pos;
        }
    }

    /// <summary>Every page reads as zeros from now on (serve stopped: nothing keeps the pages for this mapping any more).</summary>
    internal void RevokeAll()
    {
        lock (_gate)
        {
            if (_reservation != 0 && _dataEnd > 0)
            {
                MapZeros(0, _dataEnd);
                _dataEnd = 0;
            }
        }
    }

    private void Reserve()
    {
        // Reserved with 2 MiB to spare, so that the file's first byte sits on a 2 MiB boundary
        // and its 2 MiB leaves map as huge pages; all zeros (read-only) until data is mapped.
        _reserved = Capacity + ZoneGeometry.ChunkSize;
        _reservation = Libc.Mmap(0, (nuint)_reserved, Libc.PROT_READ, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        if (_reservation == Libc.MAP_FAILED)
        {
            _reservation = 0;
            throw new NativeException("mmap", $"a reservation of {_reserved} bytes", Marshal.GetLastPInvokeError());
        }

        Address = (nint)Units.RoundUp((ulong)_reservation, ZoneGeometry.ChunkSize);
    }

    private void MapData(ulong offset, ulong length, ulong dataOffset)
    {
        int protection = Libc.PROT_READ | (_writable ? Libc.PROT_WRITE : 0);
        nint at = Libc.Mmap(Address + (nint)offset, (nuint)length, protection, Libc.MAP_SHARED | Libc.MAP_FIXED,
            (int)_data.DangerousGetHandle(), (long)dataOffset);
        if (at == Libc.MAP_FAILED)
        {
            throw new NativeException("mmap", $"{ZoneFiles.DataPath(_zone.Path)} at {dataOffset}", Marshal.GetLastPInvokeError());
        }
    }

    private void MapZeros(ulong offset, ulong length)
    {
        nint at = Libc.Mmap(Address + (nint)offset, (nuint)length, Libc.PROT_READ, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_FIXED | Libc.MAP_NORESERVE, -1, 0);
        if (at == Libc.MAP_FAILED)
        {
            throw new NativeException("mmap", "zeros over a hole or a freed range", Marshal.GetLastPInvokeError());
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

/// <summary>
/// The zone's mapped files, by inode: this process's own <see cref="ZoneFileMapping"/>s (the
/// writer's), and inside serve the inodes its mapping clients map (<see cref="Observe"/>).
/// PageTables calls <see cref="Touch"/> in every change of a file's pages; once the change
/// commits, each mapping of a touched file maps its new layout and <see cref="Observer"/>
/// hears of each observed one. Used in the zone's lock.
/// </summary>
internal sealed class ZoneFileMappings(ZoneWriter writer)
{
    private readonly Dictionary<ulong, List<ZoneFileMapping>> _byInode = [];
    private readonly Dictionary<ulong, int> _observed = [];
    private readonly HashSet<ulong> _touched = [];

    /// <summary>Serve: told, after the change commits (zone lock held), of each observed inode whose pages it changed.</summary>
    public Action<ulong>? Observer { get; set; }

    public void Add(ZoneFileMapping mapping)
    {
        if (!_byInode.TryGetValue(mapping.File.Ino, out var list))
        {
            _byInode[mapping.File.Ino] = list = [];
        }

        list.Add(mapping);
    }

    public void Remove(ZoneFileMapping mapping)
    {
        if (_byInode.TryGetValue(mapping.File.Ino, out var list) && list.Remove(mapping) && list.Count == 0)
        {
            _byInode.Remove(mapping.File.Ino);
        }
    }

    /// <summary>A mapping client of serve maps <paramref name="ino"/> (once per mapping; <see cref="Unobserve"/> as often).</summary>
    public void Observe(ulong ino) => _observed[ino] = _observed.GetValueOrDefault(ino) + 1;

    public void Unobserve(ulong ino)
    {
        if (_observed.TryGetValue(ino, out int n))
        {
            if (n <= 1)
            {
                _observed.Remove(ino);
            }
            else
            {
                _observed[ino] = n - 1;
            }
        }
    }

    /// <summary>Inside a change: the pages of <paramref name="ino"/> change (allocated or freed).</summary>
    public void Touch(ulong ino)
    {
        if (!_byInode.ContainsKey(ino) && !_observed.ContainsKey(ino))
        {
            return;
        }

        if (_touched.Count == 0)
        {
            writer.AfterCommit(Flush);
            writer.AfterEnd(_touched.Clear);
        }

        _touched.Add(ino);
    }

    private void Flush()
    {
        foreach (ulong ino in _touched)
        {
            if (_byInode.TryGetValue(ino, out var list))
            {
                foreach (var mapping in list)
                {
                    mapping.Refresh();
                }
            }

            if (_observed.ContainsKey(ino))
            {
                Observer?.Invoke(ino);
            }
        }
    }
}
