using System.Globalization;
using Stargate.Guests.Qemu;
using Stargate.Guests.Checkout;
using Stargate.Testing;

namespace Stargate.Bench;

/// <summary>What the results say about where they were measured: read from /proc, QEMU and git.</summary>
public static class MachineProbe
{
    public static MachineInfo Read(BenchSettings settings) => new()
    {
        Cpus = Environment.ProcessorCount,
        CpuModel = ProcLine("/proc/cpuinfo", "model name") ?? "unknown",
        MemoryGiB = Math.Round(MemTotalKiB() / (1024.0 * 1024.0), 1),
        HostKernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
        GuestKernel = settings.KernelRelease,
        Accelerator = Environment.GetEnvironmentVariable(GuestEnvironment.AccelVariable) is { Length: > 0 } accel ? accel : "tcg",
        QemuVersion = FirstLine(ProcessRunner.Run(GuestEnvironment.QemuBinary, ["--version"]).Stdout),
        GuestMemory = settings.GuestMemory,
        GuestCpus = 1,
    };

    /// <summary>git describe of the checkout, "-dirty" when it has changes; "unknown" without git.</summary>
    public static string Commit()
    {
        try
        {
            var result = ProcessRunner.Run("git", ["-C", RepoPaths.Root, "describe", "--always", "--dirty", "--abbrev=12"]);
            return result.ExitCode == 0 ? result.Stdout.Trim() : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    private static string? ProcLine(string path, string key) =>
        File.ReadLines(path).Where(l => l.StartsWith(key, StringComparison.Ordinal)).Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).FirstOrDefault();

    private static long MemTotalKiB() =>
        long.Parse((ProcLine("/proc/meminfo", "MemTotal") ?? "0 kB").Split(' ')[0], CultureInfo.InvariantCulture);

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
