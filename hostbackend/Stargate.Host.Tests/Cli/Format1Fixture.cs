using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Stargate.Host.Zones.Format1;
using Stargate.Interop.Abi;
using static Stargate.Host.Zones.Format1.Format1Layout;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// A format 1 zone from fixtures/ (written by the 4d716a7 host: see fixtures/README.md), unpacked
/// to a scratch path in /dev/shm that is removed on Dispose, with raw access for corrupting it.
/// </summary>
internal sealed class Format1Fixture : IDisposable
{
    private readonly TempZone _place = new(format: false);

    public Format1Fixture(string name = "format1.zone.gz")
    {
        using var gz = new GZipStream(File.OpenRead(System.IO.Path.Combine(Directory, name)), CompressionMode.Decompress);
        using var file = File.Create(Path);
        gz.CopyTo(file);
    }

    public string Path => _place.Path;

    /// <summary>The manifest of format1.zone.gz: one element per name (the root's path is "").</summary>
    public static IReadOnlyList<JsonElement> Manifest() =>
        [.. JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(Directory, "format1.manifest.json"))).RootElement.EnumerateArray()];

    /// <summary>The old inode number of <paramref name="path"/>, from the manifest.</summary>
    public static ulong InodeOf(string path) => Manifest().Single(e => e.GetProperty("path").GetString() == path).GetProperty("ino").GetUInt64();

    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path)));

    public ulong Region(int region) => U64At((ulong)(SbRegions + (16 * region)));

    public ulong InodeAt(ulong ino) => Region(RegionInodeTable) + (ino * InodeRecordSize);

    public ulong U64At(ulong offset)
    {
        using var file = File.OpenHandle(Path);
        var bytes = new byte[8];
        RandomAccess.Read(file, bytes, (long)offset);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    public void Write(ulong offset, ulong value, int length = 8)
    {
        using var file = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite);
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        RandomAccess.Write(file, bytes.AsSpan(0, length), (long)offset);
    }

    /// <summary>Changes the <paramref name="length"/>-byte record at <paramref name="offset"/> and seals it again with a crc32c of its bytes before <paramref name="crcAt"/>.</summary>
    public void Rewrite(ulong offset, int length, int crcAt, Action<byte[]> change)
    {
        using var file = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite);
        var record = new byte[length];
        RandomAccess.Read(file, record, (long)offset);
        change(record);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(crcAt), Crc32C.Compute(record.AsSpan(0, crcAt)));
        RandomAccess.Write(file, record, (long)offset);
    }

    /// <summary>The zone offset of the first page of directory <paramref name="path"/>, found by the reader under test.</summary>
    public ulong FirstDirectoryPage(string path)
    {
        using var zone = Format1Zone.Open(Path);
        return new Format1Walk(zone).Read().Nodes[InodeOf(path)].Extents[0].ZoneOffset;
    }

    public void Dispose() => _place.Dispose();

    private static string Directory { get; } = Here();

    private static string Here([CallerFilePath] string source = "") =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(source))!, "fixtures");
}
