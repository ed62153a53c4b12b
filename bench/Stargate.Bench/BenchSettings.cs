using System.Globalization;
using Stargate.Guests.Checkout;
using Stargate.Guests.Kernels;
using Stargate.Guests.Qemu;

namespace Stargate.Bench;

/// <summary>
/// What one run measures, from the command line:
/// <code>
/// stargate-bench [--quick] [--name NAME] [--output DIR] [--only ID,ID...] [--parts PART,PART] [--runs N]
///                [--file-mib N] [--random-ops N] [--files N] [--transfer-mib N] [--rounds N]
///                [--dirscale-files N,N...] [--kernel ID|RELEASE] [--guest-memory SIZE]
/// </code>
/// Without --quick: the full sizes; --quick: sizes for a run of a few minutes. Each size option
/// overrides the mode's.
/// </summary>
public sealed record BenchSettings
{
    public static readonly IReadOnlyList<string> FileSystemIds = ["tmpfs", "stargate", "stargate-mmap", "stargate-nopoll", "9p", "virtiofs", "nfs", "samba"];

    /// <summary>The part that runs every workload on every chosen file system.</summary>
    public const string WorkloadsPart = "workloads";

    /// <summary>The part that measures create, stat, rename and unlink against a directory's size.</summary>
    public const string DirScalePart = "dirscale";

    public static readonly IReadOnlyList<string> PartIds = [WorkloadsPart, DirScalePart];

    public const string Usage = """
        usage: stargate-bench [--quick] [--name NAME] [--output DIR] [--only ID,ID...] [--parts PART,PART] [--runs N]
                              [--file-mib N] [--random-ops N] [--files N] [--transfer-mib N] [--rounds N]
                              [--dirscale-files N,N...] [--kernel ID|RELEASE] [--guest-memory SIZE]
               stargate-bench --map-read MIB RUNS    (host only: the zero-copy mapping against a plain copy;
                                                      bench/host-mount.sh runs it)
          --quick          sizes for a run of a few minutes (default: the full sizes)
          --name NAME      results go to OUTPUT/NAME.json, NAME.md and NAME.png (default: quick or full)
          --output DIR     default: bench/results of the checkout
          --only IDS       a comma-separated subset of: tmpfs, stargate, stargate-mmap, stargate-nopoll, 9p, virtiofs, nfs, samba
          --parts PARTS    workloads (every workload on every file system), dirscale (create, stat, rename
                           and unlink in one directory of growing size: a guest on stargatefs and on its
                           own tmpfs, in the stargate guest, and the host library), or both (the default;
                           dirscale only when stargate is among the file systems). --parts dirscale alone
                           boots only the stargate guest
          --runs N         runs per figure, the figure being their median
          --file-mib N     the large file (sequential, random and mmap workloads)
          --random-ops N   4 KiB reads or writes per random run
          --files N        small files per metadata run
          --transfer-mib N the file one guest writes and the other reads
          --rounds N       round trips per latency run
          --dirscale-files N,N...  the directory sizes of the dirscale part (quick: 100,1000,10000;
                           full: also 100000)
          --kernel ID|RELEASE  the guest kernel: a kernel of codegen/kernels.tsv (6.1, 6.12, 6.12-rt, ...)
                           at its newest installed release, or one release of them (default: the
                           newest 6.12 generic)
          --guest-memory SIZE  each guest's RAM, as QEMU -m takes it (default 1G)
        STARGATE_ACCEL=kvm boots the guests with KVM instead of TCG.
        """;

    public required string Mode { get; init; }

    public required string Name { get; init; }

    public required string OutputDirectory { get; init; }

    public required IReadOnlyList<string> FileSystems { get; init; }

    /// <summary>The parts that run, in <see cref="PartIds"/>' order.</summary>
    public required IReadOnlyList<string> Parts { get; init; }

    public required BenchSizes Sizes { get; init; }

    public required string KernelRelease { get; init; }

    /// <summary>stargatefs.ko built for <see cref="KernelRelease"/>.</summary>
    public required string StargatefsModule { get; init; }

    public required string GuestMemory { get; init; }

    public static BenchSizes QuickSizes => new()
    {
        Runs = 3, FileMiB = 64, SequentialRequestBytes = 1 << 20, RandomRequestBytes = 4096, RandomOps = 2000,
        MetadataFiles = 500, TransferMiB = 64, LatencyRounds = 20, DirScaleFiles = [100, 1000, 10_000],
    };

    public static BenchSizes FullSizes => new()
    {
        Runs = 5, FileMiB = 256, SequentialRequestBytes = 1 << 20, RandomRequestBytes = 4096, RandomOps = 10000,
        MetadataFiles = 2000, TransferMiB = 256, LatencyRounds = 100, DirScaleFiles = [100, 1000, 10_000, 100_000],
    };

    /// <summary>The settings from @args; a <see cref="BenchUsageException"/> says what is wrong.</summary>
    public static BenchSettings Parse(IReadOnlyList<string> args)
    {
        bool quick = args.Contains("--quick");
        var sizes = quick ? QuickSizes : FullSizes;
        string? name = null, output = null, kernel = null, memory = null;
        IReadOnlyList<string> only = FileSystemIds;
        IReadOnlyList<string>? parts = null;
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
                case "--parts":
                    parts = Value().Split(',', StringSplitOptions.TrimEntries);
                    foreach (string part in parts.Where(p => !PartIds.Contains(p)))
                    {
                        throw new BenchUsageException($"--parts: no part '{part}' (known: {string.Join(", ", PartIds)})");
                    }

                    parts = [.. PartIds.Where(parts.Contains)];
                    break;
                case "--dirscale-files":
                    sizes = sizes with { DirScaleFiles = DirScaleFiles(Value()) };
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

        (only, parts) = ChooseParts(only, parts);
        var guestKernel = FindKernel(kernel);
        CheckKernelModules(guestKernel);

        string mode = quick ? "quick" : "full";
        return new BenchSettings
        {
            Mode = mode,
            Name = name ?? mode,
            OutputDirectory = Path.GetFullPath(output ?? Path.Combine(RepoPaths.Root, "bench", "results")),
            FileSystems = only,
            Parts = parts,
            Sizes = sizes,
            KernelRelease = guestKernel.Release,
            StargatefsModule = guestKernel.Module,
            GuestMemory = memory ?? "1G",
        };
    }

    /// <summary>
    /// The file systems and parts of a run, from --only (@only, every file system when not
    /// given) and --parts (@parts, null when not given). The dirscale part runs in the
    /// stargate file system's guest: without --parts it runs when stargate is measured;
    /// --parts dirscale alone measures only stargate (nothing else would be measured), and
    /// is refused when --only leaves stargate out.
    /// </summary>
    public static (IReadOnlyList<string> FileSystems, IReadOnlyList<string> Parts) ChooseParts(IReadOnlyList<string> only, IReadOnlyList<string>? parts)
    {
        ArgumentNullException.ThrowIfNull(only);
        const string Stargate = Report.Figures.Stargate;
        if (parts is null)
        {
            return (only, only.Contains(Stargate) ? PartIds : [WorkloadsPart]);
        }

        if (parts.Contains(DirScalePart) && !only.Contains(Stargate))
        {
            throw new BenchUsageException($"--parts {DirScalePart} runs in the {Stargate} file system's guest: add {Stargate} to --only");
        }

        return (parts.Contains(WorkloadsPart) ? only : [Stargate], parts);
    }

    /// <summary>The directory sizes of --dirscale-files @text: whole numbers from 1 to 1,000,000, ascending, without repeats.</summary>
    public static IReadOnlyList<int> DirScaleFiles(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var files = new List<int>();
        foreach (string word in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 1_000_000)
            {
                throw new BenchUsageException($"--dirscale-files takes whole numbers from 1 to 1000000, not '{word}'");
            }

            if (files.Count > 0 && n <= files[^1])
            {
                throw new BenchUsageException($"--dirscale-files: list the sizes ascending without repeats ({n} after {files[^1]})");
            }

            files.Add(n);
        }

        return files;
    }

    /// <summary>
    /// The kernel @option names (a matrix id at its newest installed release, or a release of a
    /// matrix kernel; null: <see cref="KernelMatrix.Default"/>, the newest 6.12 generic), with
    /// its image and module, or a <see cref="BenchUsageException"/> naming what is missing.
    /// </summary>
    private static ModuleKernel FindKernel(string? option)
    {
        ModuleKernel? found;
        string reason;
        if (option is null)
        {
            var kernel = KernelMatrix.Default
                ?? throw new BenchUsageException($"no generic kernel of {KernelMatrix.RelativePath} has its image in /boot; install one or name one with --kernel ID");
            found = ModuleKernel.Find(kernel, out reason);
        }
        else if (KernelMatrix.Kernels.FirstOrDefault(k => k.Id == option) is { } byId)
        {
            found = ModuleKernel.Find(byId, out reason);
        }
        else if (KernelMatrix.Of(option) is { } byRelease)
        {
            found = File.Exists(GuestKernel.ImagePath(option))
                ? ModuleKernel.Find(byRelease, option, out reason)
                : throw new BenchUsageException($"--kernel {option}: {GuestKernel.ImagePath(option)} does not exist (a release of {byRelease.Id}: {byRelease.InstallCommand})");
        }
        else
        {
            throw new BenchUsageException($"--kernel {option}: neither a kernel of {KernelMatrix.RelativePath} ({string.Join(", ", KernelMatrix.Kernels.Select(k => k.Id))}) nor a release of one");
        }

        return found ?? throw new BenchUsageException(option is null ? reason : $"--kernel {option}: {reason}");
    }

    /// <summary>
    /// Every guest loads <see cref="BenchGuest.Modules"/> from its kernel's own tree: a kernel
    /// whose flavor lacks one (the cloud kernels have no 9p) is refused before anything boots.
    /// </summary>
    private static void CheckKernelModules(ModuleKernel kernel)
    {
        try
        {
            KernelModules.Resolve(kernel.Release, BenchGuest.Modules);
        }
        catch (GuestException e)
        {
            throw new BenchUsageException($"{e.Message} (the benchmark's guests load {string.Join(", ", BenchGuest.Modules)})");
        }
    }
}

/// <summary>A command-line mistake: the message (null for --help) and the usage go to stderr, exit 2.</summary>
public sealed class BenchUsageException(string? message) : Exception(message ?? string.Empty)
{
    public bool IsHelp => string.IsNullOrEmpty(Message);
}
