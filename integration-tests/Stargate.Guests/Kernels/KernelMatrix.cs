using System.Globalization;
using Stargate.Guests.Checkout;
using Stargate.Guests.Qemu;

namespace Stargate.Guests.Kernels;

/// <summary>
/// The guest kernel matrix, read from codegen/kernels.tsv (its header comment is the format):
/// every kernel the module is built and tested for, defined there once. The integration tests
/// run on its kernels, the benchmark boots one of them, and every guest without a chosen
/// kernel boots <see cref="Default"/>.
/// </summary>
public static class KernelMatrix
{
    /// <summary>The matrix file, relative to the checkout.</summary>
    public const string RelativePath = "codegen/kernels.tsv";

    private static readonly Lazy<IReadOnlyList<GuestKernel>> LazyKernels =
        new(() => Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, RelativePath)), RelativePath));

    private static readonly Lazy<IReadOnlyList<string>> LazyInstalled = new(() => FindInstalledReleases("/"));

    /// <summary>The rows of the matrix, in file order.</summary>
    public static IReadOnlyList<GuestKernel> Kernels => LazyKernels.Value;

    /// <summary>Every kernel release installed here, read once: see <see cref="FindInstalledReleases"/>.</summary>
    public static IReadOnlyList<string> InstalledReleases => LazyInstalled.Value;

    /// <summary>
    /// The kernel a guest boots when none is chosen: the generic flavor of the newest line that
    /// has an image in /boot (6.12, else 6.1), or null when none has.
    /// </summary>
    public static GuestKernel? Default =>
        Kernels.Where(k => k.Flavor == "generic")
            .OrderByDescending(k => k.Line, GuestKernel.ReleaseOrder.Instance)
            .FirstOrDefault(k => k.InstalledRelease is { } release && File.Exists(GuestKernel.ImagePath(release)));

    /// <summary>The row @id, or a <see cref="GuestException"/> listing the ids there are.</summary>
    public static GuestKernel Get(string id) =>
        Kernels.FirstOrDefault(k => k.Id == id)
        ?? throw new GuestException($"{RelativePath} has no kernel '{id}' (it has {string.Join(", ", Kernels.Select(k => k.Id))})");

    /// <summary>The row whose releases @release is one of, or null.</summary>
    public static GuestKernel? Of(string release) => Kernels.FirstOrDefault(k => k.Matches(release));

    /// <summary>
    /// The releases found under @root (the machine: "/"): /usr/src/linux-headers-RELEASE,
    /// /boot/vmlinuz-RELEASE and /lib/modules/RELEASE, each once, in version order. A row
    /// picks its newest from these (<see cref="GuestKernel.Newest"/>); whether the image or the
    /// module is there is checked where it is needed (<see cref="ModuleKernel.Find"/>).
    /// </summary>
    public static IReadOnlyList<string> FindInstalledReleases(string root)
    {
        IEnumerable<string> Names(string folder, string prefix, bool directories)
        {
            string path = Path.Combine(root, folder);
            if (!Directory.Exists(path))
            {
                return [];
            }

            var entries = directories ? Directory.EnumerateDirectories(path, prefix + "*") : Directory.EnumerateFiles(path, prefix + "*");
            return entries.Select(e => Path.GetFileName(e)[prefix.Length..]).Where(r => r.Length > 0);
        }

        return Names("usr/src", "linux-headers-", directories: true)
            .Concat(Names("boot", "vmlinuz-", directories: false))
            .Concat(Names("lib/modules", string.Empty, directories: true))
            .Distinct(StringComparer.Ordinal)
            .Order(GuestKernel.ReleaseOrder.Instance)
            .ToList();
    }

    /// <summary>
    /// The rows of a matrix file's @text (@source names it in errors): '#' starts a comment
    /// line, columns are separated by tabs or spaces (id, line, flavor, release regex, suite,
    /// comma-separated packages). A malformed row is a <see cref="FormatException"/> with
    /// "source(line): what is wrong".
    /// </summary>
    public static IReadOnlyList<GuestKernel> Parse(string text, string source)
    {
        var kernels = new List<GuestKernel>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string where = string.Create(CultureInfo.InvariantCulture, $"{source}({i + 1})");
            string[] columns = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length != 6)
            {
                throw new FormatException($"{where}: {columns.Length} columns, expected 6 (id, line, flavor, release, suite, packages)");
            }

            var (id, kernelLine, flavor, release, suiteName, packages) = (columns[0], columns[1], columns[2], columns[3], columns[4], columns[5]);
            if (kernels.Any(k => k.Id == id))
            {
                throw new FormatException($"{where}: kernel '{id}' is defined twice");
            }

            KernelSuite suite = suiteName switch
            {
                "full" => KernelSuite.Full,
                "core" => KernelSuite.Core,
                _ => throw new FormatException($"{where}: suite '{suiteName}', expected full or core"),
            };
            try
            {
                _ = new System.Text.RegularExpressions.Regex(release);
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"{where}: release '{release}' is not a regex: {e.Message}");
            }

            kernels.Add(new GuestKernel(id, kernelLine, flavor, release, suite, packages.Split(',', StringSplitOptions.RemoveEmptyEntries)));
        }

        return kernels.Count > 0 ? kernels : throw new FormatException($"{source}: no kernel is defined");
    }
}
