using System.Globalization;
using System.Text.RegularExpressions;
using Stargate.Codegen.Diagnostics;

namespace Stargate.Codegen.Kernel;

/// <summary>
/// A kernel's build headers (/usr/src/linux-headers-RELEASE, or a built source tree): what
/// Kbuild's -C takes. Opening checks that the directory is one and reads the kernel's identity.
/// </summary>
internal sealed partial class KernelHeaders
{
    private const string UtsRelease = "include/generated/utsrelease.h";
    private const string VersionHeader = "include/generated/uapi/linux/version.h";

    private KernelHeaders(string directory, string release, int major, int minor, int sublevel, IReadOnlyList<string> sourceRoots)
    {
        Directory = directory;
        Release = release;
        Major = major;
        Minor = minor;
        Sublevel = sublevel;
        SourceRoots = sourceRoots;
    }

    /// <summary>The absolute path of the headers directory.</summary>
    public string Directory { get; }

    /// <summary>
    /// The kernel release (uname -r), from UTS_RELEASE: what the module's vermagic carries and
    /// modprobe compares. Not include/config/kernel.release: Debian's 6.1 headers write the
    /// upstream version there (6.1.192), not the release (6.1.0-56-amd64).
    /// </summary>
    public string Release { get; }

    public int Major { get; }

    public int Minor { get; }

    public int Sublevel { get; }

    /// <summary>Where the kernel's own headers live: this directory and, for Debian's split packages, the -common one its Makefile includes.</summary>
    public IReadOnlyList<string> SourceRoots { get; }

    /// <summary>Opens a headers directory, or fails with one line that says what is wrong and how to fix it.</summary>
    public static KernelHeaders Open(string path)
    {
        string directory = Path.GetFullPath(path);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new CodegenException($"--headers {path}: no such directory; install the guest kernel's headers (apt-get install linux-headers-RELEASE) and pass /usr/src/linux-headers-RELEASE");
        }

        string uts = Path.Combine(directory, UtsRelease);
        string version = Path.Combine(directory, VersionHeader);
        string makefile = Path.Combine(directory, "Makefile");
        foreach (var required in new[] { makefile, uts, version })
        {
            if (!File.Exists(required))
            {
                throw new CodegenException($"--headers {path}: not a kernel headers directory (no {Path.GetRelativePath(directory, required)}); pass /usr/src/linux-headers-RELEASE, the one Kbuild's -C takes");
            }
        }

        var release = UtsReleasePattern().Match(File.ReadAllText(uts));
        if (!release.Success)
        {
            throw new CodegenException($"{uts}: no UTS_RELEASE definition; the headers are incomplete: reinstall them");
        }

        string versionText = File.ReadAllText(version);
        int code = Define(versionText, "LINUX_VERSION_CODE") ?? throw new CodegenException($"{version}: no LINUX_VERSION_CODE definition; the headers are incomplete: reinstall them");

        // The code caps the sublevel at 255; the separate macros (5.x and later) do not.
        int major = Define(versionText, "LINUX_VERSION_MAJOR") ?? code >> 16;
        int minor = Define(versionText, "LINUX_VERSION_PATCHLEVEL") ?? (code >> 8) & 0xff;
        int sublevel = Define(versionText, "LINUX_VERSION_SUBLEVEL") ?? code & 0xff;
        return new KernelHeaders(directory, release.Groups[1].Value, major, minor, sublevel, FindSourceRoots(directory, makefile));
    }

    /// <summary>
    /// Where a kernel header declares a symbol: the full path of the first line that names it,
    /// or the relative header path at (1,1) when the header or the symbol is not there.
    /// </summary>
    public (string File, int Line, int Column) Locate(string header, string? symbol)
    {
        foreach (var root in SourceRoots)
        {
            string file = Path.Combine(root, header);
            if (!File.Exists(file))
            {
                continue;
            }

            if (!string.IsNullOrEmpty(symbol))
            {
                var lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                {
                    int column = lines[i].IndexOf(symbol, StringComparison.Ordinal);
                    if (column >= 0)
                    {
                        return (file, i + 1, column + 1);
                    }
                }
            }

            return (file, 1, 1);
        }

        return (header, 1, 1);
    }

    private static int? Define(string text, string name)
    {
        var match = Regex.Match(text, $@"^#define {name} (\d+)\s*$", RegexOptions.Multiline);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Debian's linux-headers-RELEASE holds the generated headers and includes the -common package's Makefile, which holds the rest.</summary>
    private static List<string> FindSourceRoots(string directory, string makefile)
    {
        var roots = new List<string> { directory };
        foreach (Match include in IncludedMakefile().Matches(File.ReadAllText(makefile)))
        {
            string root = Path.GetDirectoryName(Path.GetFullPath(include.Groups[1].Value, directory))!;
            if (System.IO.Directory.Exists(Path.Combine(root, "include")) && !roots.Contains(root))
            {
                roots.Add(root);
            }
        }

        return roots;
    }

    [GeneratedRegex("""^#define UTS_RELEASE "([^"]+)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex UtsReleasePattern();

    [GeneratedRegex(@"^include\s+(\S+/Makefile)\s*$", RegexOptions.Multiline)]
    private static partial Regex IncludedMakefile();
}
