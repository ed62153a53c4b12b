using System.Text.RegularExpressions;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// The kernel the guests boot: $STARGATE_GUEST_KERNEL if set (it must exist), else the newest
/// /boot/vmlinuz-* by version (6.12 after 6.1). Debian's linux-image-amd64 provides one.
/// </summary>
public static partial class GuestKernel
{
    public const string OverrideVariable = "STARGATE_GUEST_KERNEL";

    /// <summary>The kernel's path, or null with the reason there is none.</summary>
    public static string? Find(out string reason)
    {
        string? chosen = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrEmpty(chosen))
        {
            reason = File.Exists(chosen) ? string.Empty : $"{OverrideVariable}={chosen} does not exist";
            return File.Exists(chosen) ? chosen : null;
        }

        string? newest = Directory.Exists("/boot")
            ? Directory.EnumerateFiles("/boot", "vmlinuz-*").OrderBy(VersionKey, VersionComparer.Instance).LastOrDefault()
            : null;
        reason = newest is null
            ? $"no guest kernel: /boot has no vmlinuz-* (apt-get install linux-image-amd64, or set {OverrideVariable})"
            : string.Empty;
        return newest;
    }

    /// <summary>
    /// The kernel release of the newest /boot/vmlinuz-SERIES.* or SERIES-* ("6.1" finds
    /// 6.1.0-56-amd64, never 6.12.x), or null with the reason and the package that provides it.
    /// </summary>
    public static string? FindRelease(string series, out string reason)
    {
        string? newest = Directory.Exists("/boot")
            ? Directory.EnumerateFiles("/boot", $"vmlinuz-{series}*")
                .Where(p => Path.GetFileName(p).Length > $"vmlinuz-{series}".Length && Path.GetFileName(p)[$"vmlinuz-{series}".Length] is '.' or '-')
                .OrderBy(VersionKey, VersionComparer.Instance)
                .LastOrDefault()
            : null;
        reason = newest is null
            ? $"no {series} guest kernel: /boot has no vmlinuz-{series}.* (apt-get install {(series == "6.1" ? "linux-image-amd64" : $"linux-image-{series}.*+deb12-amd64 from bookworm-backports")})"
            : string.Empty;
        return newest is null ? null : Path.GetFileName(newest)["vmlinuz-".Length..];
    }

    /// <summary>The release of the kernel image @path (/boot/vmlinuz-RELEASE), whose modules are in /lib/modules/RELEASE.</summary>
    public static string ReleaseOf(string path)
    {
        string name = Path.GetFileName(path);
        return name.StartsWith("vmlinuz-", StringComparison.Ordinal)
            ? name["vmlinuz-".Length..]
            : throw new GuestException($"{path}: not named vmlinuz-RELEASE, so its modules cannot be found");
    }

    /// <summary>The kernel image of @release: /boot/vmlinuz-RELEASE.</summary>
    public static string ImagePath(string release) => $"/boot/vmlinuz-{release}";

    /// <summary>The numbers in a kernel file name, in order: vmlinuz-6.12.117+deb12-amd64 gives 6, 12, 117, 12.</summary>
    private static long[] VersionKey(string path) =>
        Numbers().Matches(Path.GetFileName(path)).Select(m => long.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [GeneratedRegex("[0-9]{1,18}")]
    private static partial Regex Numbers();

    private sealed class VersionComparer : IComparer<long[]>
    {
        public static readonly VersionComparer Instance = new();

        public int Compare(long[]? x, long[]? y)
        {
            x ??= [];
            y ??= [];
            for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
            {
                int c = x[i].CompareTo(y[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return x.Length.CompareTo(y.Length);
        }
    }
}
