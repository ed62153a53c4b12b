using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// The zone's two files mapped shared into this process, back to back in one reserved
/// range: Z at offset 0, Z.data right after it, so that an offset here is a zone offset.
/// Every access is bounds checked against the mapping, so a wrong offset (from a bug or
/// from a guest's garbage) is an exception, never a stray access.
/// </summary>
internal sealed unsafe class ZoneMemory : IDisposable
{
    private byte* _base;

    /// <summary>Maps <paramref name="file"/> (<paramref name="length"/> bytes) and then <paramref name="dataFile"/> (<paramref name="dataLength"/> bytes) right after it.</summary>
    public ZoneMemory(SafeFileHandle file, ulong length, SafeFileHandle dataFile, ulong dataLength, bool writable, string path)
    {
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        ulong total = length + dataLength;

        // Reserve the whole range first, so that nothing else can land between the two mappings.
        nint addr = (nint)Sys.Check(Libc.Mmap(0, (nuint)total, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0), "mmap", path);
        try
        {
            Sys.Check(Libc.Mmap(addr, (nuint)length, prot, Libc.MAP_SHARED | Libc.MAP_FIXED, (int)file.DangerousGetHandle(), 0), "mmap", path);
            Sys.Check(Libc.Mmap(addr + (nint)length, (nuint)dataLength, prot, Libc.MAP_SHARED | Libc.MAP_FIXED, (int)dataFile.DangerousGetHandle(), 0), "mmap", ZoneFiles.DataPath(path));
        }
        catch
        {
            _ = Libc.Munmap(addr, (nuint)total);
            throw;
        }

        _base = (byte*)addr;
        Length = total;
        StructureLength = length;
        Writable = writable;
    }

    /// <summary>Bytes of Z: offsets from here on are in Z.data.</summary>
    public ulong StructureLength { get; }

    public ulong Length { get; }

    public bool Writable { get; }

    public ref T Ref<T>(ulong offset)
        where T : unmanaged
    {
        Check(offset, (ulong)sizeof(T));
        return ref Unsafe.AsRef<T>(_base + offset);
    }

    public Span<byte> Span(ulong offset, ulong length)
    {
        Check(offset, length);
        if (length > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "span longer than 2 GiB");
        }

        return new Span<byte>(_base + offset, (int)length);
    }

    public Span<T> Span<T>(ulong offset, ulong count)
        where T : unmanaged
    {
        Check(offset, count * (ulong)sizeof(T));
        return new Span<T>(_base + offset, checked((int)count));
    }

    /// <summary>Writes the mapping back to its file (meaningful for files on disk or DAX; a no-op cost on tmpfs).</summary>
    public void Flush(string path)
    {
        nint addr = (nint)_base;
        Sys.Check(Libc.Msync(addr, (nuint)Length, Libc.MS_SYNC), "msync", path);
    }

    public void Dispose()
    {
        if (_base != null)
        {
            _ = Libc.Munmap((nint)_base, (nuint)Length);
            _base = null;
        }
    }

    private void Check(ulong offset, ulong length)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);

        if (length > Length || offset > Length - length)
        {
            throw new ZoneCorruptException($"access at zone offset 0x{offset:x} (+0x{length:x}) lies outside the {Length}-byte zone (both files)");
        }
    }
}
