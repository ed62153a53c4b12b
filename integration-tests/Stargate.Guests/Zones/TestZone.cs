using System.Buffers.Binary;
using System.Globalization;

namespace Stargate.Guests.Zones;

/// <summary>
/// A zone formatted by the real CLI (`stargate zone create`) for one test, in /dev/shm or in
/// any other folder, deleted on Dispose: its structure file (<see cref="Path"/>) and its data
/// file (<see cref="DataPath"/>, <see cref="Size"/> bytes, the size asked for). Zones of runs killed before cleaning up are removed
/// when the first zone of a later run is made.
/// </summary>
public sealed class TestZone : IDisposable
{
    public const ulong DefaultSize = 64UL << 20;
    private const string Prefix = "stargate-it-";

    static TestZone()
    {
        foreach (string path in Directory.EnumerateFiles("/dev/shm", Prefix + "*"))
        {
            string[] parts = System.IO.Path.GetFileName(path)[Prefix.Length..].Split('-', '.');
            if (int.TryParse(parts[0], CultureInfo.InvariantCulture, out int pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                File.Delete(path);
            }
        }
    }

    private TestZone(string path, ulong size)
    {
        Path = path;
        Size = size;
        string sizeText = (size >> 20).ToString(CultureInfo.InvariantCulture) + "M";
        StargateCli.RunChecked("zone", "create", path, "--size", sizeText);
    }

    public string Path { get; }

    public string DataPath => Stargate.Host.Zones.ZoneFiles.DataPath(Path);

    /// <summary>The data file's size: what `zone create --size` was given.</summary>
    public ulong Size { get; }

    /// <summary>The structure file's size: zone offsets from here on are in the data file.</summary>
    public ulong StructureSize => (ulong)new FileInfo(Path).Length;

    /// <summary>A new zone file in /dev/shm (where QEMU maps it as shared memory).</summary>
    public static TestZone InShm(ulong size = DefaultSize) =>
        new($"/dev/shm/{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}.zone", size);

    /// <summary>A new zone file in @directory (a disk-backed file system, say).</summary>
    public static TestZone In(string directory, ulong size = DefaultSize) =>
        new(System.IO.Path.Combine(directory, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}.zone"), size);

    /// <summary>Reads the little-endian u64 at zone offset @offset (in the structure or the data file), as the host sees it.</summary>
    public ulong ReadU64(ulong offset)
    {
        var (path, at) = Locate(offset);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Span<byte> bytes = stackalloc byte[8];
        file.Position = at;
        file.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    /// <summary>Writes the little-endian u64 at zone offset @offset.</summary>
    public void WriteU64(ulong offset, ulong value)
    {
        var (path, at) = Locate(offset);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        file.Position = at;
        file.Write(bytes);
    }

    public void Dispose()
    {
        File.Delete(Path);
        File.Delete(DataPath);
    }

    /// <summary>The file a zone offset lies in, and the offset in it.</summary>
    private (string Path, long Offset) Locate(ulong offset)
    {
        ulong structure = StructureSize;
        return offset < structure ? (Path, (long)offset) : (DataPath, (long)(offset - structure));
    }
}
