using Stargate.Host.Fsck;
using Stargate.Host.Tests.Cli;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Fsck;

/// <summary>
/// A 16 MiB zone with a known tree, for one corruption test:
///   /small (10000 bytes, 4 KiB pages), /big (3 MiB + 123, two 2 MiB leaves),
///   /empty, /docs/note (5000 bytes).
/// Root slots are in that order: docs, small, big, empty; fsck walks the root
/// before /docs. The test corrupts the file by hand, then uses the checks here.
/// </summary>
internal sealed class CorruptibleZone : IDisposable
{
    private readonly TempZone _zone = new(16UL << 20);

    public CorruptibleZone()
    {
        try
        {
            using var zone = _zone.Open();
            Geometry = zone.Geometry;
            zone.Names.MakeDirectory("/docs");
            Add(zone, "/small", 10_000);
            Add(zone, "/big", (3 << 20) + 123);
            Add(zone, "/empty", 0);
            Add(zone, "/docs/note", 5_000);
        }
        catch
        {
            // No one will dispose a half-built fixture: remove the zone file here.
            _zone.Dispose();
            throw;
        }
    }

    public string Path => _zone.Path;

    public ZoneGeometry Geometry { get; }

    /// <summary>What each file held before the corruption.</summary>
    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    public ulong Ino(string path)
    {
        using var zone = _zone.Open(ZoneAccess.ReadOnly);
        return zone.Names.Resolve(path);
    }

    public ulong InodeOffset(string path) => Geometry.InodeOffset(Ino(path));

    /// <summary>The zone offset of the root's (or /docs') slot for <paramref name="path"/>.</summary>
    public ulong DirentOffset(string path)
    {
        string dir = path.LastIndexOf('/') == 0 ? "/" : path[..path.LastIndexOf('/')];
        return RawZone.DirentOffset(Path, Geometry, Ino(dir), path[(path.LastIndexOf('/') + 1)..]);
    }

    /// <summary>
    /// fsck without repair: asserts that one problem mentions every one of
    /// <paramref name="mentions"/> and that not a byte of the file changed; returns that problem.
    /// </summary>
    public string FindsWithoutChanging(params string[] mentions)
    {
        byte[] before = File.ReadAllBytes(Path);
        var report = ZoneChecker.Check(Path, repair: false);
        ZoneContent.AssertSameBytes(before, File.ReadAllBytes(Path), "the zone file after fsck without --repair");
        Assert.False(report.Repaired);
        string? match = report.Problems.FirstOrDefault(p => mentions.All(m => p.Contains(m, StringComparison.Ordinal)));
        Assert.True(match is not null, $"no problem mentions all of [{string.Join(", ", mentions)}]; problems:\n{string.Join('\n', report.Problems)}");
        return match;
    }

    /// <summary>fsck --repair: asserts it repaired everything and that a second fsck is clean; returns the repair's report.</summary>
    public FsckReport RepairsToClean()
    {
        var report = ZoneChecker.Check(Path, repair: true);
        Assert.True(report.Repaired);
        Assert.NotEmpty(report.Problems);
        Assert.True(report.Remaining.Count == 0, $"not repaired:\n{string.Join('\n', report.Remaining)}");
        ZoneContent.AssertFsckClean(Path);

        // A writer can open the repaired zone, and closing it leaves it clean.
        _zone.Open().Dispose();
        ZoneContent.AssertFsckClean(Path);
        return report;
    }

    /// <summary>Asserts that every file but <paramref name="except"/> reads back exactly as it was written.</summary>
    public void AssertIntact(params string[] except)
    {
        foreach (var (path, data) in Files)
        {
            if (!except.Contains(path))
            {
                ZoneContent.AssertHolds(Path, path, data);
            }
        }
    }

    public void Dispose() => _zone.Dispose();

    private void Add(Zone zone, string path, int length)
    {
        byte[] data = ZoneContent.Bytes(length, length);
        zone.Files.Write(zone.Names.CreateFile(path), 0, data);
        Files[path] = data;
    }
}
