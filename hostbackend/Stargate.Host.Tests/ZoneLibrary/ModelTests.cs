using System.Security.Cryptography;
using Stargate.Host.Fsck;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// Thousands of random operations applied both to a zone and to a real
/// directory on tmpfs: every outcome (including each refusal) must match,
/// and the two trees must hold the same names, types, sizes, link counts and
/// bytes whenever they are compared. The zone is closed and reopened along
/// the way, and must fsck clean at the end.
/// </summary>
public sealed class ModelTests : IDisposable
{
    private const int Operations = 2500;
    private const long ByteBudget = 120L << 20;
    private static readonly string[] Names = ["a", "b", "c", "dir", "file.txt", "é", "日本", new string('n', 255), "x y", "UPPER"];
    private readonly string _real = Directory.CreateTempSubdirectory("stargate-model-").FullName;
    private readonly Dictionary<string, int> _seen = [];
    private Random _rng = new(0);

    public void Dispose() => Directory.Delete(_real, recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomOperations_MatchARealDirectory(int seed)
    {
        _rng = new Random(seed);
        using var zone = new TempZone(256UL << 20);
        var z = zone.Open();
        try
        {
            for (int i = 0; i < Operations; i++)
            {
                int pick = _rng.Next(100);
                string step = pick switch
                {
                    < 14 => CreateFile(z),
                    < 22 => MakeDirectory(z),
                    < 44 => Write(z),
                    < 52 => Truncate(z),
                    < 60 => Unlink(z),
                    < 66 => RemoveDirectory(z),
                    < 78 => Rename(z),
                    < 97 => Read(z),
                    _ => "reopen",
                };
                _seen[step] = _seen.GetValueOrDefault(step) + 1;
                if (step == "reopen")
                {
                    z.Dispose();
                    z = zone.Open();
                }

                if (i % 250 == 249)
                {
                    Assert.Equal(RealTree(), ZoneTree(z));
                }
            }

            Assert.Equal(RealTree(), ZoneTree(z));

            // The run is only worth something if it did all of it, refusals included.
            foreach (string kind in new[] { "create", "mkdir", "write", "truncate", "unlink", "rmdir", "rename", "read", "reopen" })
            {
                Assert.True(_seen.GetValueOrDefault(kind) >= 20, $"only {_seen.GetValueOrDefault(kind)} '{kind}' steps ran");
            }

            foreach (var error in new[] { ZoneError.Exists, ZoneError.NotFound, ZoneError.NotEmpty, ZoneError.IsDirectory, ZoneError.NotDirectory })
            {
                Assert.True(_seen.GetValueOrDefault(error.ToString()) >= 3, $"only {_seen.GetValueOrDefault(error.ToString())} {error} refusals");
            }
        }
        finally
        {
            z.Dispose();
        }

        var report = ZoneChecker.Check(zone.Path, repair: false);
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
    }

    private string CreateFile(Zone z)
    {
        string path = ChildPath(RandomDirectory());
        var expected = Exists(path) ? ZoneError.Exists : (ZoneError?)null;
        Expect(expected, () => z.Names.CreateFile(Zone(path)));
        if (expected is null)
        {
            File.Create(path).Dispose();
        }

        return "create";
    }

    private string MakeDirectory(Zone z)
    {
        string path = ChildPath(RandomDirectory());
        var expected = Exists(path) ? ZoneError.Exists : (ZoneError?)null;
        Expect(expected, () => z.Names.MakeDirectory(Zone(path)));
        if (expected is null)
        {
            Directory.CreateDirectory(path);
        }

        return "mkdir";
    }

    private string Write(Zone z)
    {
        string? path = RandomFile();
        if (path is null || UsedBytes() > ByteBudget)
        {
            return "skip";
        }

        long size = new FileInfo(path).Length;
        long offset = _rng.Next(4) switch
        {
            0 => size,
            1 => _rng.NextInt64(0, size + 1),
            2 => _rng.NextInt64(0, 6L << 20),
            _ => _rng.NextInt64(0, size + (1 << 20)),
        };
        int length = _rng.Next(10) == 0 ? _rng.Next(1, 3 << 20) : _rng.Next(1, 200_000);
        var data = new byte[length];
        _rng.NextBytes(data);
        z.Files.Write(z.Names.Resolve(Zone(path)), (ulong)offset, data);
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        f.Seek(offset, SeekOrigin.Begin);
        f.Write(data);
        return "write";
    }

    private string Truncate(Zone z)
    {
        string? path = RandomFile();
        if (path is null)
        {
            return "skip";
        }

        long size = new FileInfo(path).Length;
        long target = _rng.Next(3) == 0 ? 0 : _rng.NextInt64(0, (size * 2) + 10_000);
        if (target > size && UsedBytes() + (target - size) > ByteBudget)
        {
            target = size / 2;
        }

        z.Files.Truncate(z.Names.Resolve(Zone(path)), (ulong)target);
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        f.SetLength(target);
        return "truncate";
    }

    private string Unlink(Zone z)
    {
        string path = _rng.Next(4) == 0 ? ChildPath(RandomDirectory()) : RandomFile() ?? ChildPath(RandomDirectory());
        ZoneError? expected = Directory.Exists(path) ? ZoneError.IsDirectory : File.Exists(path) ? null : ZoneError.NotFound;
        Expect(expected, () => z.Names.Unlink(Zone(path)));
        if (expected is null)
        {
            File.Delete(path);
        }

        return "unlink";
    }

    private string RemoveDirectory(Zone z)
    {
        string path = _rng.Next(5) == 0 ? ChildPath(RandomDirectory()) : RandomDirectory();
        if (path == _real)
        {
            return "skip";
        }

        ZoneError? expected = File.Exists(path) ? ZoneError.NotDirectory
            : !Directory.Exists(path) ? ZoneError.NotFound
            : Directory.EnumerateFileSystemEntries(path).Any() ? ZoneError.NotEmpty
            : null;
        Expect(expected, () => z.Names.RemoveDirectory(Zone(path)));
        if (expected is null)
        {
            Directory.Delete(path);
        }

        return "rmdir";
    }

    private string Rename(Zone z)
    {
        var all = Entries().ToList();
        if (all.Count == 0)
        {
            return "skip";
        }

        string src = all[_rng.Next(all.Count)];
        string dst = _rng.Next(3) == 0 && all.Count > 1 ? all[_rng.Next(all.Count)] : ChildPath(RandomDirectory());
        bool srcDir = Directory.Exists(src);
        ZoneError? expected = null;
        if (src == dst)
        {
            expected = null;
        }
        else if (srcDir && (dst + "/").StartsWith(src + "/", StringComparison.Ordinal))
        {
            expected = ZoneError.InvalidArgument;
        }
        else if (Directory.Exists(dst))
        {
            expected = !srcDir ? ZoneError.IsDirectory : Directory.EnumerateFileSystemEntries(dst).Any() ? ZoneError.NotEmpty : null;
        }
        else if (File.Exists(dst) && srcDir)
        {
            expected = ZoneError.NotDirectory;
        }

        Expect(expected, () => z.Names.Rename(Zone(src), Zone(dst)));
        if (expected is null && src != dst)
        {
            if (srcDir)
            {
                if (Directory.Exists(dst))
                {
                    Directory.Delete(dst);
                }

                Directory.Move(src, dst);
            }
            else
            {
                File.Move(src, dst, overwrite: true);
            }
        }

        return "rename";
    }

    private string Read(Zone z)
    {
        string? path = RandomFile();
        if (path is null)
        {
            return "skip";
        }

        var real = File.ReadAllBytes(path);
        int offset = _rng.Next(real.Length + 100);
        int length = _rng.Next(1, 400_000);
        var buffer = new byte[length];
        int n = z.Files.Read(z.Names.Resolve(Zone(path)), (ulong)offset, buffer);
        int expected = Math.Max(0, Math.Min(length, real.Length - offset));
        Assert.Equal(expected, n);
        Assert.True(real.AsSpan(Math.Min(offset, real.Length), expected).SequenceEqual(buffer.AsSpan(0, n)), $"bytes differ reading {path} at {offset}");
        return "read";
    }

    private void Expect(ZoneError? error, Action action)
    {
        if (error is null)
        {
            action();
            return;
        }

        var e = Assert.ThrowsAny<ZoneException>(action);
        Assert.Equal(error, e.Error);
        _seen[e.Error.ToString()] = _seen.GetValueOrDefault(e.Error.ToString()) + 1;
    }

    private List<string> RealTree()
    {
        var lines = new List<string>();
        foreach (string path in Entries())
        {
            string rel = Zone(path);
            if (Directory.Exists(path))
            {
                int subdirs = Directory.EnumerateDirectories(path).Count();
                int entries = Directory.EnumerateFileSystemEntries(path).Count();
                lines.Add($"{rel} dir links={2 + subdirs} entries={entries}");
            }
            else
            {
                var bytes = File.ReadAllBytes(path);
                lines.Add($"{rel} file size={bytes.Length} links=1 sha256={Convert.ToHexString(SHA256.HashData(bytes))[..16]}");
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static List<string> ZoneTree(Zone z) => [.. ZoneState.Capture(z, modes: false)];

    private IEnumerable<string> Entries() => Directory.EnumerateFileSystemEntries(_real, "*", SearchOption.AllDirectories);

    private string RandomDirectory()
    {
        var dirs = Directory.EnumerateDirectories(_real, "*", SearchOption.AllDirectories).Prepend(_real).ToList();
        return dirs[_rng.Next(dirs.Count)];
    }

    private string? RandomFile()
    {
        var files = Directory.EnumerateFiles(_real, "*", SearchOption.AllDirectories).ToList();
        return files.Count == 0 ? null : files[_rng.Next(files.Count)];
    }

    private string ChildPath(string dir) => Path.Combine(dir, Names[_rng.Next(Names.Length)]);

    private long UsedBytes() => Directory.EnumerateFiles(_real, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    private string Zone(string realPath) => "/" + Path.GetRelativePath(_real, realPath).Replace('\\', '/').TrimStart('.');
}
