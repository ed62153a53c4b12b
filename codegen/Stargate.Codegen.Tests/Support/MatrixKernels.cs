using System.Text.RegularExpressions;
using Stargate.Codegen.Kernel;

namespace Stargate.Codegen.Tests.Support;

/// <summary>One row of codegen/kernels.tsv, the guest kernel matrix.</summary>
internal sealed record MatrixKernel(string Id, string Line, string Flavor, Regex Release, string Suite, IReadOnlyList<string> Packages);

/// <summary>
/// The guest kernels the module must build for: codegen/kernels.tsv (the same file build.cake's
/// Build-Guest-Modules reads), and where their headers are installed.
/// </summary>
internal static partial class MatrixKernels
{
    public const string HeadersRoot = "/usr/src";
    private const string HeadersPrefix = "linux-headers-";

    public static IReadOnlyList<MatrixKernel> All { get; } = Read(Path.Combine(Repo.Root, "codegen", "kernels.tsv"));

    /// <summary>The matrix ids (6.1, 6.1-cloud, ...), for theories.</summary>
    public static TheoryData<string> Ids => new(All.Select(k => k.Id));

    public static MatrixKernel Get(string id) => All.Single(k => k.Id == id);

    /// <summary>The newest installed release that matches the row (by version, as sort -V orders), or null.</summary>
    public static string? Release(string id)
    {
        var kernel = Get(id);
        if (!Directory.Exists(HeadersRoot))
        {
            return null;
        }

        return Directory.GetDirectories(HeadersRoot, HeadersPrefix + "*")
            .Select(dir => Path.GetFileName(dir)[HeadersPrefix.Length..])
            .Where(release => kernel.Release.IsMatch(release) && File.Exists(Path.Combine(HeadersRoot, HeadersPrefix + release, "Makefile")))
            .Order(VersionComparer.Instance)
            .LastOrDefault();
    }

    /// <summary>The headers directory of the row's newest installed release, or null.</summary>
    public static string? Headers(string id) => Release(id) is { } release ? HeadersOfRelease(release) : null;

    /// <summary>The headers directory of one release, if installed.</summary>
    public static string? HeadersOfRelease(string release)
    {
        string dir = Path.Combine(HeadersRoot, HeadersPrefix + release);
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>The installed release of every row that has one.</summary>
    public static IEnumerable<string> InstalledReleases() => All.Select(k => Release(k.Id)).OfType<string>();

    /// <summary>The installed headers of a matrix kernel; skips the test when they are not installed.</summary>
    public static KernelHeaders OpenOrSkip(string id)
    {
        var dir = Headers(id);
        Skip.If(dir is null, InstallHint(id));
        return KernelHeaders.Open(dir);
    }

    /// <summary>The headers of 6.12 or else 6.1 (for tests that need a kernel, any kernel); skips the test when neither is installed.</summary>
    public static KernelHeaders AnyOrSkip()
    {
        var dir = Headers("6.12") ?? Headers("6.1");
        Skip.If(dir is null, InstallHint("6.12"));
        return KernelHeaders.Open(dir);
    }

    public static string InstallHint(string id) =>
        $"the headers of matrix kernel {id} are not installed here (apt-get install {string.Join(' ', Get(id).Packages)})";

    private static List<MatrixKernel> Read(string file) =>
        File.ReadAllLines(file)
            .Where(line => !line.TrimStart().StartsWith('#') && line.Trim().Length > 0)
            .Select(line => line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Select(f => new MatrixKernel(f[0], f[1], f[2], new Regex("^(?:" + f[3] + ")$", RegexOptions.CultureInvariant), f[4], f[5].Split(',')))
            .ToList();

    /// <summary>Orders versions as sort -V does: runs of digits as numbers, the rest as text.</summary>
    private sealed partial class VersionComparer : IComparer<string>
    {
        public static readonly VersionComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Chunks().Matches(x ?? "");
            var b = Chunks().Matches(y ?? "");
            for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
            {
                string p = a[i].Value, q = b[i].Value;
                int order = char.IsAsciiDigit(p[0]) && char.IsAsciiDigit(q[0])
                    ? decimal.Parse(p, System.Globalization.CultureInfo.InvariantCulture).CompareTo(decimal.Parse(q, System.Globalization.CultureInfo.InvariantCulture))
                    : string.CompareOrdinal(p, q);
                if (order != 0)
                {
                    return order;
                }
            }

            return a.Count.CompareTo(b.Count);
        }

        [GeneratedRegex(@"\d+|\D+")]
        private static partial Regex Chunks();
    }
}
