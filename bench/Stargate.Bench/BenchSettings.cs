using System.Globalization;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Support;

namespace Stargate.Bench;

/// <summary>
/// What one run measures, from the command line:
/// <code>
/// stargate-bench [--quick] [--name NAME] [--output DIR] [--only ID,ID...] [--runs N]
///                [--file-mib N] [--random-ops N] [--files N] [--transfer-mib N] [--rounds N]
///                [--kernel RELEASE] [--guest-memory SIZE]
/// </code>
/// Without --quick: the full sizes; --quick: sizes for a run of a few minutes. Each size option
/// overrides the mode's.
/// </summary>
public sealed record BenchSettings
{
    public static readonly IReadOnlyList<string> FileSystemIds = ["tmpfs", "stargate", "stargate-mmap", "9p", "virtiofs", "nfs", "samba"];

    public const string Usage = """
        usage: stargate-bench [--quick] [--name NAME] [--output DIR] [--only ID,ID...] [--runs N]
                              [--file-mib N] [--random-ops N] [--files N] [--transfer-mib N] [--rounds N]
                              [--kernel RELEASE] [--guest-memory SIZE]
          --quick          sizes for a run of a few minutes (default: the full sizes)
          --name NAME      results go to OUTPUT/NAME.json, NAME.md and NAME.png (default: quick or full)
          --output DIR     default: bench/results of the checkout
          --only IDS       a comma-separated subset of: tmpfs, stargate, stargate-mmap, 9p, virtiofs, nfs, samba
          --runs N         runs per figure, the figure being their median
          --file-mib N     the large file (sequential, random and mmap workloads)
          --random-ops N   4 KiB reads or writes per random run
          --files N        small files per metadata run
          --transfer-mib N the file one guest writes and the other reads
          --rounds N       round trips per latency run
          --kernel RELEASE the guest kernel (default: the newest 6.12 in /boot)
          --guest-memory SIZE  each guest's RAM, as QEMU -m takes it (default 1G)
        STARGATE_ACCEL=kvm boots the guests with KVM instead of TCG.
        """;

    public required string Mode { get; init; }

    public required string Name { get; init; }

    public required string OutputDirectory { get; init; }

    public required IReadOnlyList<string> FileSystems { get; init; }

    public required BenchSizes Sizes { get; init; }

    public required string KernelRelease { get; init; }

    /// <summary>stargatefs.ko built for <see cref="KernelRelease"/>.</summary>
    public required string StargatefsModule { get; init; }

    public required string GuestMemory { get; init; }

    public static BenchSizes QuickSizes => new()
    {
        Runs = 3, FileMiB = 64, SequentialRequestBytes = 1 << 20, RandomRequestBytes = 4096, RandomOps = 2000,
        MetadataFiles = 500, TransferMiB = 64, LatencyRounds = 20,
    };

    public static BenchSizes FullSizes => new()
    {
        Runs = 5, FileMiB = 256, SequentialRequestBytes = 1 << 20, RandomRequestBytes = 4096, RandomOps = 10000,
        MetadataFiles = 2000, TransferMiB = 256, LatencyRounds = 100,
    };

    /// <summary>The settings from @args; a <see cref="BenchUsageException"/> says what is wrong.</summary>
    public static BenchSettings Parse(IReadOnlyList<string> args)
    {
        bool quick = args.Contains("--quick");
        var sizes = quick ? QuickSizes : FullSizes;
        string? name = null, output = null, kernel = null, memory = null;
        IReadOnlyList<string> only = FileSystemIds;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--quick")
            {
                continue;
            }

            string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new BenchUsageException($"{arg} needs a value");
            int Count(int max) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= max
                ? n
                : throw new BenchUsageException($"{arg} takes a whole number from 1 to {max}, not '{args[i]}'");
            switch (arg)
            {
                case "--name":
                    name = Value();
                    if (name.Length == 0 || name.Length > 100 || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_' and not '.') || name.StartsWith('.'))
                    {
                        throw new BenchUsageException($"--name '{name}': use letters, digits, '-', '_' and '.' (not first), at most 100");
                    }

                    break;
                case "--output": output = Value(); break;
                case "--kernel": kernel = Value(); break;
                case "--guest-memory":
                    memory = Value();
                    if (!System.Text.RegularExpressions.Regex.IsMatch(memory, "^[1-9][0-9]{0,5}[MG]$"))
                    {
                        throw new BenchUsageException($"--guest-memory '{memory}': write it as QEMU does, such as 1G or 768M");
                    }

                    break;
                case "--only":
                    only = Value().Split(',', StringSplitOptions.TrimEntries);
                    foreach (string id in only)
                    {
                        if (!FileSystemIds.Contains(id))
                        {
                            throw new BenchUsageException($"--only: no file system '{id}' (known: {string.Join(", ", FileSystemIds)})");
                        }
                    }

                    only = [.. FileSystemIds.Where(only.Contains)];
                    break;
                case "--runs": sizes = sizes with { Runs = Count(99) }; break;
                case "--file-mib": sizes = sizes with { FileMiB = Count(16384) }; break;
                case "--random-ops": sizes = sizes with { RandomOps = Count(10_000_000) }; break;
                case "--files": sizes = sizes with { MetadataFiles = Count(1_000_000) }; break;
                case "--transfer-mib": sizes = sizes with { TransferMiB = Count(16384) }; break;
                case "--rounds": sizes = sizes with { LatencyRounds = Count(100_000) }; break;
                case "--help" or "-h": throw new BenchUsageException(null);
                default: throw new BenchUsageException($"unknown argument '{arg}'");
            }
        }

        if (kernel is null)
        {
            kernel = GuestKernel.FindRelease("6.12", out string reason)
                ?? throw new BenchUsageException($"{reason}; or name a kernel with --kernel RELEASE");
        }
        else if (!File.Exists(GuestKernel.ImagePath(kernel)))
        {
            throw new BenchUsageException($"--kernel {kernel}: {GuestKernel.ImagePath(kernel)} does not exist");
        }

        string module = Path.Combine(RepoPaths.Root, "artifacts", "modules", kernel, ModuleKernel.ModuleName);
        if (!File.Exists(module))
        {
            throw new BenchUsageException($"{module} is missing: build the guest module first ({ModuleKernel.BuildCommand})");
        }

        string mode = quick ? "quick" : "full";
        return new BenchSettings
        {
            Mode = mode,
            Name = name ?? mode,
            OutputDirectory = Path.GetFullPath(output ?? Path.Combine(RepoPaths.Root, "bench", "results")),
            FileSystems = only,
            Sizes = sizes,
            KernelRelease = kernel,
            StargatefsModule = module,
            GuestMemory = memory ?? "1G",
        };
    }
}

/// <summary>A command-line mistake: the message (null for --help) and the usage go to stderr, exit 2.</summary>
public sealed class BenchUsageException(string? message) : Exception(message ?? string.Empty)
{
    public bool IsHelp => string.IsNullOrEmpty(Message);
}
