using System.Globalization;
using System.Text.Json;

namespace Stargate.IntegrationTests.Host;

/// <summary>
/// A test's files in a zone, through the real `stargate` command: put bytes in, get them
/// back, the inode number and where the bytes are (`stat --extents`).
/// </summary>
public static class ZoneFiles
{
    /// <summary>One extent of `stargate stat --extents --json`.</summary>
    public sealed record Extent(ulong FileOffset, ulong ZoneOffset, ulong Length, bool Huge);

    /// <summary>`stargate put` of @data as @path (through a scratch file beside the zone).</summary>
    public static void Put(TestZone zone, string path, byte[] data)
    {
        string local = $"{zone.Path}.put-{Guid.NewGuid():N}";
        try
        {
            File.WriteAllBytes(local, data);
            StargateCli.RunChecked("put", zone.Path, local, path);
        }
        finally
        {
            File.Delete(local);
        }
    }

    /// <summary>`stargate get` of @path: the file's bytes as the host reads them.</summary>
    public static byte[] Get(TestZone zone, string path)
    {
        string local = $"{zone.Path}.get-{Guid.NewGuid():N}";
        try
        {
            StargateCli.RunChecked("get", zone.Path, path, local);
            return File.ReadAllBytes(local);
        }
        finally
        {
            File.Delete(local);
        }
    }

    /// <summary>The inode number of @path (`stargate stat --json`).</summary>
    public static ulong Ino(TestZone zone, string path)
    {
        using var doc = JsonDocument.Parse(StargateCli.RunChecked("stat", zone.Path, path, "--json").Stdout);
        return doc.RootElement.GetProperty("ino").GetUInt64();
    }

    /// <summary>Where @path's bytes are in the zone file (`stargate stat --extents --json`).</summary>
    public static IReadOnlyList<Extent> Extents(TestZone zone, string path)
    {
        using var doc = JsonDocument.Parse(StargateCli.RunChecked("stat", zone.Path, path, "--extents", "--json").Stdout);
        return doc.RootElement.GetProperty("extents").EnumerateArray()
            .Select(e => new Extent(
                e.GetProperty("file_offset").GetUInt64(),
                e.GetProperty("zone_offset").GetUInt64(),
                e.GetProperty("length").GetUInt64(),
                e.GetProperty("huge").GetBoolean()))
            .ToList();
    }

    /// <summary>The zone offset of byte @fileOffset of @path; throws if it is in a hole.</summary>
    public static ulong ZoneOffset(TestZone zone, string path, ulong fileOffset)
    {
        var extent = Extents(zone, path).FirstOrDefault(e => e.FileOffset <= fileOffset && fileOffset < e.FileOffset + e.Length)
            ?? throw new InvalidOperationException($"{path}: offset {fileOffset.ToString(CultureInfo.InvariantCulture)} is in a hole");
        return extent.ZoneOffset + (fileOffset - extent.FileOffset);
    }
}
