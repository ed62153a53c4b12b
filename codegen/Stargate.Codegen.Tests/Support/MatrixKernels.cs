namespace Stargate.Codegen.Tests.Support;

/// <summary>
/// The guest kernels the module must build for, by line, and where their headers are installed
/// (the same choice as build.cake's Build-Guest-Modules: Debian's amd64 flavour, not -cloud or -rt).
/// </summary>
internal static class MatrixKernels
{
    public const string HeadersRoot = "/usr/src";

    /// <summary>Line, and the glob of its headers directories under /usr/src.</summary>
    private static readonly (string Line, string Prefix, string Suffix)[] Lines =
    [
        ("6.1", "linux-headers-6.1.", "-amd64"),
        ("6.12", "linux-headers-6.12.", "+deb12-amd64"),
    ];

    public static IReadOnlyList<string> LineList => Lines.Select(l => l.Line).ToList();

    public static TheoryData<string> LineNames => new(LineList);

    /// <summary>The newest installed headers directory of a line, or null.</summary>
    public static string? Headers(string line)
    {
        var (_, prefix, suffix) = Lines.Single(l => l.Line == line);
        if (!Directory.Exists(HeadersRoot))
        {
            return null;
        }

        return Directory.GetDirectories(HeadersRoot, prefix + "*" + suffix)
            .Where(dir => !Path.GetFileName(dir).Contains("-cloud", StringComparison.Ordinal) && !Path.GetFileName(dir).Contains("-rt", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .LastOrDefault();
    }

    /// <summary>The headers directory of one release, if installed.</summary>
    public static string? HeadersOfRelease(string release)
    {
        string dir = Path.Combine(HeadersRoot, "linux-headers-" + release);
        return Directory.Exists(dir) ? dir : null;
    }

    public static string InstallHint(string what) =>
        $"the headers of {what} are not installed here (apt-get install linux-headers-amd64 linux-headers-6.12-amd64)";
}
