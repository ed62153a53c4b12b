using System.Text.Json;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// `stargate stat --extents`: where a file's bytes are in the zone file, as runs of 2 MiB
/// leaves or 4 KiB pages, merged where contiguous, holes left out.
/// </summary>
public class StatExtentsTests
{
    private const ulong Size64M = 64UL << 20;
    private const ulong Chunk = 2UL << 20;

    private sealed record Extent(ulong FileOffset, ulong ZoneOffset, ulong Length, bool Huge, string Kind);

    [Fact]
    public void StatExtents_OfALargeFile_IsChunkAlignedHugeExtents_HoldingItsBytes()
    {
        using var zone = new TempZone(Size64M);
        byte[] data = ZoneContent.Bytes((5 << 20) + 123, 60);
        ZoneContent.Write(zone, "/big", data);

        var extents = Extents(zone, "/big");

        Assert.All(extents, e =>
        {
            Assert.True(e.Huge && e.Kind == "2M", $"a 2 MiB leaf: {e}");
            Assert.True(e.FileOffset % Chunk == 0 && e.ZoneOffset % Chunk == 0 && e.Length % Chunk == 0, $"2 MiB aligned: {e}");
        });
        AssertCoversInOrder(extents, 6UL << 20);
        AssertZoneHolds(zone, extents, data);
    }

    [Fact]
    public void StatExtents_OfASmallFile_IsPagesHoldingItsBytes()
    {
        using var zone = new TempZone(Size64M);
        byte[] data = ZoneContent.Bytes(9000, 61);
        ZoneContent.Write(zone, "/small", data);

        var extents = Extents(zone, "/small");

        Assert.All(extents, e => Assert.Equal("4K", e.Kind));
        AssertCoversInOrder(extents, 3 * 4096);
        AssertZoneHolds(zone, extents, data);
    }

    [Fact]
    public void StatExtents_OfASparseFile_LeavesTheHoleOut()
    {
        using var zone = new TempZone(Size64M);
        using (var z = zone.Open())
        {
            ulong ino = z.Names.CreateFile("/sparse");
            z.Files.Write(ino, 0, ZoneContent.Bytes(100, 62));
            z.Files.Write(ino, 1 << 20, ZoneContent.Bytes(100, 63));
        }

        var extents = Extents(zone, "/sparse");

        Assert.Equal([0UL, 1UL << 20], extents.Select(e => e.FileOffset));
        Assert.All(extents, e => Assert.Equal(4096UL, e.Length));
    }

    [Fact]
    public void StatExtents_AsText_IsAHeaderAndOneHexLinePerExtent()
    {
        using var zone = new TempZone(Size64M);
        ZoneContent.Write(zone, "/big", ZoneContent.Bytes(3 << 20, 64));
        var extent = Extents(zone, "/big").First();

        var r = CliAssert.Succeeds(StargateProcess.Run("stat", zone.Path, "/big", "--extents"));

        string[] lines = CliAssert.Lines(r);
        Assert.StartsWith("  File: /big\tSize: 3145728\tExtents: ", lines[0], StringComparison.Ordinal);
        Assert.Equal(["ext", "file", "offset", "zone", "offset", "length", "kind"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["0", "0x0", $"0x{extent.ZoneOffset:x}", $"0x{extent.Length:x}", "2M"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void StatExtents_OfAnEmptyFile_IsNone()
    {
        using var zone = new TempZone(Size64M);
        using (var z = zone.Open())
        {
            z.Names.CreateFile("/empty");
        }

        Assert.Empty(Extents(zone, "/empty"));
    }

    [Fact]
    public void StatExtents_OfADirectory_FailsWithOneLine()
    {
        using var zone = new TempZone(Size64M);
        var r = StargateProcess.Run("stat", zone.Path, "/", "--extents");
        CliAssert.FailsWithOneLine(r, 1, "/", "is a directory");
    }

    private static List<Extent> Extents(TempZone zone, string path)
    {
        var r = CliAssert.Succeeds(StargateProcess.Run("stat", zone.Path, path, "--extents", "--json"));
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(path, doc.RootElement.GetProperty("path").GetString());
        return doc.RootElement.GetProperty("extents").EnumerateArray()
            .Select(e => new Extent(
                e.GetProperty("file_offset").GetUInt64(),
                e.GetProperty("zone_offset").GetUInt64(),
                e.GetProperty("length").GetUInt64(),
                e.GetProperty("huge").GetBoolean(),
                e.GetProperty("kind").GetString()!))
            .ToList();
    }

    /// <summary>The extents follow each other from file offset 0 to @allocated, without gaps or overlaps.</summary>
    private static void AssertCoversInOrder(List<Extent> extents, ulong allocated)
    {
        ulong next = 0;
        foreach (var e in extents)
        {
            Assert.Equal(next, e.FileOffset);
            next += e.Length;
        }

        Assert.Equal(allocated, next);
    }

    /// <summary>Reading the data file at each extent's zone offset (less the structure file's size) gives the file's bytes there.</summary>
    private static void AssertZoneHolds(TempZone zone, List<Extent> extents, byte[] data)
    {
        long structure = new FileInfo(zone.Path).Length;
        using var file = File.OpenHandle(zone.DataPath);
        foreach (var e in extents.Where(e => e.FileOffset < (ulong)data.Length))
        {
            int n = (int)Math.Min(e.Length, (ulong)data.Length - e.FileOffset);
            byte[] got = new byte[n];
            Assert.True((long)e.ZoneOffset >= structure, $"a regular file's extent at zone offset 0x{e.ZoneOffset:x} lies in the structure file");
            RandomAccess.Read(file, got, (long)e.ZoneOffset - structure);
            ZoneContent.AssertSameBytes(data.AsSpan((int)e.FileOffset, n).ToArray(), got, $"the zone at 0x{e.ZoneOffset:x} (file offset {e.FileOffset})");
        }
    }
}
