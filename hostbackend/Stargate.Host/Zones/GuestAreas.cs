using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// Each guest's private area (docs/zone-format.md "A guest's private area"): the file
/// ZONE.area.SLOT, SGZ_AREA_SIZE bytes, that the service makes when a QEMU connects and sends
/// it as that QEMU's shared memory, so that only that guest and the host map it. It holds the
/// guest's request ring and open table (at SGZ_AREA_RING, in the ring-area layout); the
/// guest's replies are in Z. Files are named by slot so that a service started after another
/// died, and the command line, find the areas of the guests still running.
/// Everything in an area is written by its guest: untrusted, copied out before use.
/// Thread-safe: the service's loop thread makes and removes areas while requests read them.
/// </summary>
public sealed class GuestAreas : IDisposable
{
    private readonly string _zonePath;
    private readonly ZoneGeometry _geometry;
    private readonly byte[] _uuid;
    private readonly bool _writable;
    private readonly Dictionary<int, AreaMemory> _mapped = [];
    private readonly Lock _gate = new();

    internal GuestAreas(string zonePath, ZoneGeometry geometry, ReadOnlySpan<byte> uuid, bool writable)
    {
        _zonePath = zonePath;
        _geometry = geometry;
        _uuid = uuid.ToArray();
        _writable = writable;
    }

    /// <summary>The file of slot <paramref name="slot"/>'s area.</summary>
    public static string PathOf(string zonePath, int slot) => $"{zonePath}.area.{slot}";

    /// <summary>Every area file of the zone at <paramref name="zonePath"/> (for zone rm): ZONE.area.N with N a number.</summary>
    public static IEnumerable<string> FilesOf(string zonePath)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(zonePath));
        string prefix = Path.GetFileName(zonePath) + ".area.";
        if (dir is null || !Directory.Exists(dir))
        {
            return [];
        }

        return Directory.EnumerateFiles(dir, prefix + "*")
            .Where(f => Path.GetFileName(f)[prefix.Length..] is { Length: > 0 } n && n.All(char.IsAsciiDigit));
    }

    /// <summary>
    /// A new area for slot <paramref name="slot"/> (a QEMU just connected): whatever was at its
    /// path is removed, the file made anew (0600, never through a symlink), its header written,
    /// and it stays mapped here. Returns an fd of it for the caller to send and close.
    /// </summary>
    public SafeFileHandle Create(int slot, uint flags)
    {
        Check(slot);
        if (!_writable)
        {
            throw new ZoneException(ZoneError.ReadOnly, $"{_zonePath} is open read-only: no guest area can be made");
        }

        using var scope = _gate.EnterScope();
        Forget(slot);
        string path = PathOf(_zonePath, slot);
        try
        {
            File.Delete(path); // unlink(2): a symlink there goes, not what it names
        }
        catch (UnauthorizedAccessException)
        {
            throw new ZoneException(ZoneError.NotPermitted, $"{path} is in the way and not this service's to remove (another user's file in a sticky directory?): remove it, or keep zones in a directory only their owner writes");
        }

        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x180 /* 0600 */);
        var file = new SafeFileHandle((int)Sys.Check(fd, "open", path), ownsHandle: true);
        try
        {
            RandomAccess.SetLength(file, SgzAbi.AreaSize);
            var area = new AreaMemory(file, writable: true, path);
            _mapped[slot] = area;
            ref var header = ref area.Ref<SgzArea>(0);
            header = default;
            header.Magic = SgzAbi.AreaMagic;
            header.VersionMajor = SgzAbi.VersionMajor;
            header.VersionMinor = SgzAbi.VersionMinor;
            header.Slot = (uint)slot;
            header.Flags = flags;
            _uuid.CopyTo(area.Span((ulong)Marshal.OffsetOf<SgzArea>(nameof(SgzArea.Uuid)), 16));
            return file;
        }
        catch
        {
            file.Dispose();
            Forget(slot);
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Slot <paramref name="slot"/>'s area, mapped now if this process has not yet (a guest a
    /// previous service left running); null when its file is missing or not an area file (not
    /// a regular file of SGZ_AREA_SIZE bytes owned by this process's user, as a service of
    /// this user made it: a file another local user put there, say in /dev/shm, is never
    /// served): such a guest has nothing to serve.
    /// </summary>
    public AreaMemory? Find(int slot)
    {
        Check(slot);
        using var scope = _gate.EnterScope();
        if (_mapped.TryGetValue(slot, out var mapped))
        {
            return mapped;
        }

        string path = PathOf(_zonePath, slot);
        int fd = Libc.Open(path, (_writable ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_NOFOLLOW | Libc.O_CLOEXEC | Libc.O_NONBLOCK, 0);
        if (fd < 0)
        {
            return null;
        }

        using var file = new SafeFileHandle(fd, ownsHandle: true);
        if (Libc.Fstat(fd, out var status) != 0 || status.Type != Libc.S_IFREG || status.Size != SgzAbi.AreaSize || status.Uid != Libc.Getuid())
        {
            return null;
        }

        var area = new AreaMemory(file, _writable, path);
        _mapped[slot] = area;
        return area;
    }

    /// <summary>A guest gone: its area is unmapped and its file removed.</summary>
    public void Remove(int slot)
    {
        Check(slot);
        using var scope = _gate.EnterScope();
        Forget(slot);
        if (_writable)
        {
            File.Delete(PathOf(_zonePath, slot));
        }
    }

    public void Dispose()
    {
        using var scope = _gate.EnterScope();
        foreach (var area in _mapped.Values)
        {
            area.Dispose();
        }

        _mapped.Clear();
    }

    private void Forget(int slot)
    {
        if (_mapped.Remove(slot, out var area))
        {
            area.Dispose();
        }
    }

    private void Check(int slot)
    {
        if (slot <= SgzAbi.HostPeerSlot || (uint)slot >= _geometry.MaxPeers)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"peer slot {slot} has no guest area (guest slots are 1..{_geometry.MaxPeers - 1})");
        }
    }
}

/// <summary>One guest's private area mapped shared into this process; every access bounds checked.</summary>
public sealed unsafe class AreaMemory : IDisposable
{
    private byte* _base;

    internal AreaMemory(SafeFileHandle file, bool writable, string path)
    {
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        _base = (byte*)Sys.Check(Libc.Mmap(0, SgzAbi.AreaSize, prot, Libc.MAP_SHARED, (int)file.DangerousGetHandle(), 0), "mmap", path);
    }

    /// <summary>The ring area's offset in the area: request ring, open table (docs/requests.md).</summary>
    public static ulong Ring => SgzAbi.AreaRing;

    public ref T Ref<T>(ulong offset)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if ((ulong)sizeof(T) > SgzAbi.AreaSize || offset > SgzAbi.AreaSize - (ulong)sizeof(T))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "outside a guest area");
        }

        return ref Unsafe.AsRef<T>(_base + offset);
    }

    public Span<byte> Span(ulong offset, ulong length)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (length > SgzAbi.AreaSize || offset > SgzAbi.AreaSize - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "outside a guest area");
        }

        return new Span<byte>(_base + offset, (int)length);
    }

    public void Dispose()
    {
        if (_base != null)
        {
            _ = Libc.Munmap((nint)_base, SgzAbi.AreaSize);
            _base = null;
        }
    }
}
