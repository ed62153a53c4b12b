namespace Stargate.Bench.Tests;

/// <summary>
/// A small, well-formed run with figures chosen so the ratios are easy to check by hand: every file
/// system's throughput is its scale below, with runs at 0.99, 1 and 1.01 of it; latency is 50000 µs
/// over the scale. Stargate's mmap read and transfer, and 9p's transfer, are set apart; 9p's random
/// write failed; Samba's server did not start; tmpfs has no two-guest workloads.
/// </summary>
internal static class SampleRuns
{
    public const string NineP = "9p";

    public const string NinePRandWriteError = "sgbench: pwrite: Input/output error\n  after 12 ops";

    public const string SambaError = "smbd exited with 1: cannot bind port 445";

    private static readonly (string Id, string Label, double Scale)[] Scales =
    [
        ("tmpfs", "guest tmpfs", 1000), ("stargate", "Stargate", 1000), ("stargate-mmap", "Stargate (mmap)", 950),
        (NineP, "virtio-9p", 50), ("virtiofs", "virtio-fs", 400), ("nfs", "NFS", 20), ("samba", "Samba", 10),
    ];

    public static BenchRun Good()
    {
        var results = new List<Measurement>();
        foreach (var (id, _, scale) in Scales.Where(s => s.Id != "samba"))
        {
            foreach (var workload in Workload.All.Where(w => id != "tmpfs" || !w.TwoGuests))
            {
                double value = (id, workload.Id) switch
                {
                    ("stargate", "mmapread") => 800,
                    ("stargate", "transfer") => 900,
                    (NineP, "transfer") => 30,
                    (_, "latency") => 50000 / scale,
                    _ => scale,
                };
                results.Add(id == NineP && workload == Workload.RandWrite
                    ? Measurement.Failed(id, workload, NinePRandWriteError)
                    : Measurement.Of(id, workload, [value * 0.99, value, value * 1.01]));
            }
        }

        return new BenchRun
        {
            Name = "quick-20261121T1015Z",
            Mode = "quick",
            Started = new DateTimeOffset(2026, 11, 21, 11, 15, 0, TimeSpan.FromHours(1)),
            DurationSeconds = 754.4,
            Commit = "v0.3-12-gabcdef0-dirty",
            Machine = new MachineInfo
            {
                Cpus = 2,
                CpuModel = "AMD EPYC 7B13",
                MemoryGiB = 7.75,
                HostKernel = "6.12.48+deb13-cloud-amd64",
                GuestKernel = "6.12.48+deb13-amd64",
                Accelerator = "tcg",
                QemuVersion = "10.0.3",
                GuestMemory = "512M",
                GuestCpus = 1,
            },
            Sizes = new BenchSizes
            {
                Runs = 3,
                FileMiB = 64,
                SequentialRequestBytes = 1 << 20,
                RandomRequestBytes = 4096,
                RandomOps = 2000,
                MetadataFiles = 500,
                TransferMiB = 32,
                LatencyRounds = 100,
            },
            FileSystems = Scales
                .Select(s => new FileSystemInfo
                {
                    Id = s.Id,
                    Label = s.Label,
                    Setup = $"{s.Id} as set up for the test, mount -o rw",
                    Error = s.Id == "samba" ? SambaError : null,
                })
                .ToList(),
            Results = results,
        };
    }

    /// <summary>
    /// @run with a directory-scaling part at n = 100, 1,000 and 10,000: stargatefs costs 100 µs per
    /// operation at n = 100, flat on create and stat, 1.2x at the largest size on rename and 3x on
    /// unlink; tmpfs costs 2 µs and grows 2x everywhere (no goal for it); the host 10 µs, flat,
    /// except that its unlink at n = 10,000 failed. Runs at 0.99, 1 and 1.01 of each figure.
    /// </summary>
    public static BenchRun WithDirScale(BenchRun run)
    {
        int[] files = [100, 1000, 10_000];
        var figures = new List<DirScaleMeasurement>();
        foreach (var side in DirScaleSide.All)
        {
            foreach (string operation in DirScaleSide.Operations)
            {
                foreach (int n in files)
                {
                    double growth = (side.Id, operation) switch
                    {
                        ("guest-stargate", "rename") => 1.2,
                        ("guest-stargate", "unlink") => 3,
                        ("guest-tmpfs", _) => 2,
                        _ => 1,
                    };
                    double cost = (side.Id switch { "guest-stargate" => 100, "guest-tmpfs" => 2, _ => 10 }) * (n == files[^1] ? growth : 1);
                    figures.Add(side == DirScaleSide.Host && operation == "unlink" && n == files[^1]
                        ? DirScaleMeasurement.Failed(side.Id, operation, n, HostUnlinkError)
                        : DirScaleMeasurement.Of(side.Id, operation, n, [cost * 0.99, cost, cost * 1.01]));
                }
            }
        }

        return run with { Sizes = run.Sizes with { DirScaleFiles = files }, DirScale = figures };
    }

    public const string HostUnlinkError = "zone full: no inode left";

    /// <summary>@run with the result of (@fileSystem, @workload) replaced by @change's.</summary>
    public static BenchRun WithResult(BenchRun run, string fileSystem, Workload workload, Func<Measurement, Measurement> change) =>
        run with
        {
            Results = run.Results
                .Select(m => m.FileSystem == fileSystem && m.Workload == workload.Id ? change(m) : m)
                .ToList(),
        };
}
