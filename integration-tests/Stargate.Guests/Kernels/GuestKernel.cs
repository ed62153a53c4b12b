using System.Text.RegularExpressions;

namespace Stargate.Guests.Kernels;

/// <summary>Which guest tests run on a kernel of the matrix: the suite column of codegen/kernels.tsv.</summary>
public enum KernelSuite
{
    /// <summary>Mount, read/write/mmap, namespace and locks: what every kernel of the matrix runs.</summary>
    Core,

    /// <summary>Every guest test.</summary>
    Full,
}

/// <summary>
/// One kernel of the guest kernel matrix, a row of codegen/kernels.tsv (<see cref="KernelMatrix"/>
/// reads it): its id ("6.12-cloud"), line, flavor, the regex its releases match, its test suite
/// and the Debian packages that install it. Patch releases are never pinned:
/// <see cref="InstalledRelease"/> is the newest installed release that matches.
/// </summary>
public sealed partial record GuestKernel(string Id, string Line, string Flavor, string ReleasePattern, KernelSuite Suite, IReadOnlyList<string> Packages)
{
    private readonly Regex _release = new($"^(?:{ReleasePattern})$", RegexOptions.CultureInvariant);

    /// <summary>True when this kernel runs the tests of @suite: a full kernel runs every suite, a core kernel the core one.</summary>
    public bool Runs(KernelSuite suite) => Suite >= suite;

    /// <summary>True when @release (uname -r) is a release of this kernel: the whole of it matches <see cref="ReleasePattern"/>.</summary>
    public bool Matches(string release) => _release.IsMatch(release);

    /// <summary>The newest of @releases that is one of this kernel's (by version, as sort -V orders them), or null.</summary>
    public string? Newest(IEnumerable<string> releases) =>
        releases.Where(Matches).Order(ReleaseOrder.Instance).LastOrDefault();

    /// <summary>The newest release of this kernel installed here (<see cref="KernelMatrix.InstalledReleases"/>), or null.</summary>
    public string? InstalledRelease => Newest(KernelMatrix.InstalledReleases);

    /// <summary>The command that installs this kernel's headers and image.</summary>
    public string InstallCommand => $"apt-get install --no-install-recommends {string.Join(' ', Packages)}";

    /// <summary>The kernel image of @release: /boot/vmlinuz-RELEASE.</summary>
    public static string ImagePath(string release) => $"/boot/vmlinuz-{release}";

    /// <summary>The release of the kernel image @path (/boot/vmlinuz-RELEASE), whose modules are in /lib/modules/RELEASE.</summary>
    public static string ReleaseOf(string path)
    {
        string name = Path.GetFileName(path);
        return name.StartsWith("vmlinuz-", StringComparison.Ordinal)
            ? name["vmlinuz-".Length..]
            : throw new Qemu.GuestException($"{path}: not named vmlinuz-RELEASE, so its modules cannot be found");
    }

    public override string ToString() => Id;

    /// <summary>Kernel releases by version: the runs of digits compared as numbers, left to right (6.12.9 before 6.12.10), then the text.</summary>
    public sealed partial class ReleaseOrder : IComparer<string>
    {
        public static readonly ReleaseOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Numbers(x ?? string.Empty);
            var b = Numbers(y ?? string.Empty);
            for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                int c = a[i].CompareTo(b[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            int byCount = a.Length.CompareTo(b.Length);
            return byCount != 0 ? byCount : string.CompareOrdinal(x, y);
        }

        private static long[] Numbers(string release) =>
            Digits().Matches(release).Select(m => long.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        [GeneratedRegex("[0-9]{1,18}")]
        private static partial Regex Digits();
    }
}
