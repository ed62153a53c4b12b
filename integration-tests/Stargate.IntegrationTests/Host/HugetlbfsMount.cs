using Stargate.Testing;
using System.Globalization;

namespace Stargate.IntegrationTests.Host;

/// <summary>
/// A private hugetlbfs mount (2 MiB pages) with enough huge pages reserved for one zone; the
/// mount is removed and the reservation restored on Dispose. Needs root: skips otherwise.
/// </summary>
public sealed class HugetlbfsMount : IDisposable
{
    private const string NrHugepages = "/proc/sys/vm/nr_hugepages";
    private readonly int _before;

    private HugetlbfsMount(string path, int before)
    {
        Path = path;
        _before = before;
    }

    public string Path { get; }

    public static HugetlbfsMount Create(ulong bytes)
    {
        Skip.IfNot(Environment.UserName == "root" && File.Exists(NrHugepages), "reserving huge pages and mounting hugetlbfs needs root");
        int before = int.Parse(File.ReadAllText(NrHugepages).Trim(), CultureInfo.InvariantCulture);
        int needed = (int)(bytes >> 21) + 2;
        File.WriteAllText(NrHugepages, (before + needed).ToString(CultureInfo.InvariantCulture));
        int now = int.Parse(File.ReadAllText(NrHugepages).Trim(), CultureInfo.InvariantCulture);
        string path = Directory.CreateTempSubdirectory("stargate-huge-").FullName;
        var mount = new HugetlbfsMount(path, before);
        if (now < before + needed)
        {
            mount.Dispose();
            Skip.If(true, $"the kernel reserved {now - before} of the {needed} huge pages asked for (memory too fragmented)");
        }

        var r = ProcessRunner.Run("mount", ["-t", "hugetlbfs", "-o", "pagesize=2M", "none", path], TimeSpan.FromSeconds(30));
        if (r.ExitCode != 0)
        {
            mount.Dispose();
            Skip.If(true, $"mount -t hugetlbfs failed: {r.Stderr.Trim()}");
        }

        return mount;
    }

    public void Dispose()
    {
        ProcessRunner.Run("umount", [Path], TimeSpan.FromSeconds(30));
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }

        File.WriteAllText(NrHugepages, _before.ToString(CultureInfo.InvariantCulture));
    }
}
