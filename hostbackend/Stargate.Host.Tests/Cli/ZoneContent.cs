using Stargate.Host.Fsck;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Cli;

/// <summary>Sets up and reads back zone contents in-process, around the CLI run under test.</summary>
internal static class ZoneContent
{
    /// <summary>Deterministic bytes: a failure reproduces with the same data.</summary>
    public static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static ulong Write(TempZone zone, string path, byte[] data)
    {
        using var z = zone.Open();
        ulong ino = z.Names.CreateFile(path);
        z.Files.Write(ino, 0, data);
        return ino;
    }

    public static byte[] Read(string zonePath, string path)
    {
        using var z = Zone.Open(zonePath, ZoneAccess.ReadOnly);
        var info = z.Names.Stat(path);
        var data = new byte[info.Size];
        Assert.Equal(data.Length, z.Files.Read(info.Ino, 0, data));
        return data;
    }

    public static bool Exists(string zonePath, string path)
    {
        using var z = Zone.Open(zonePath, ZoneAccess.ReadOnly);
        try
        {
            z.Names.Resolve(path);
            return true;
        }
        catch (ZoneException e) when (e.Error == ZoneError.NotFound)
        {
            return false;
        }
    }

    public static IReadOnlyList<string> List(string zonePath, string dir)
    {
        using var z = Zone.Open(zonePath, ZoneAccess.ReadOnly);
        return [.. z.Names.ReadDirectory(dir).Select(e => e.Name).Order(StringComparer.Ordinal)];
    }

    /// <summary>Asserts that the file at <paramref name="path"/> holds exactly <paramref name="expected"/>.</summary>
    public static void AssertHolds(string zonePath, string path, byte[] expected) =>
        AssertSameBytes(expected, Read(zonePath, path), $"{path} in the zone");

    public static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        int firstDifference = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(
            expected.Length == actual.Length && firstDifference == expected.Length,
            $"{what}: {actual.Length} bytes, expected {expected.Length}; first difference at byte {firstDifference}");
    }

    /// <summary>Asserts that fsck (in-process, without repair) finds nothing wrong.</summary>
    public static void AssertFsckClean(string zonePath)
    {
        var report = ZoneChecker.Check(zonePath, repair: false);
        Assert.True(report.Problems.Count == 0, $"fsck found:\n{string.Join('\n', report.Problems)}");
    }
}
