using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stargate.Bench;

/// <summary>One benchmark run, as written to bench/results/NAME.json.</summary>
public sealed record BenchRun
{
    /// <summary>The file's name without extension (quick-20261121T1015Z, full-...).</summary>
    public required string Name { get; init; }

    /// <summary>"quick" or "full".</summary>
    public required string Mode { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required double DurationSeconds { get; init; }

    /// <summary>git describe of the checkout (with -dirty when it had changes).</summary>
    public required string Commit { get; init; }

    public required MachineInfo Machine { get; init; }

    public required BenchSizes Sizes { get; init; }

    /// <summary>The file systems in table order, each with how it was set up.</summary>
    public required IReadOnlyList<FileSystemInfo> FileSystems { get; init; }

    /// <summary>One entry per (file system, workload) that applies.</summary>
    public required IReadOnlyList<Measurement> Results { get; init; }

    /// <summary>
    /// The directory-scaling part (one entry per side, operation and directory size), or null
    /// when the run left it out (--parts) or was made before it existed.
    /// </summary>
    public IReadOnlyList<DirScaleMeasurement>? DirScale { get; init; }

    /// <summary>Stargate's request round trip by step, per Stargate file system measured (null in runs made before it).</summary>
    public IReadOnlyList<RequestSteps>? RequestSteps { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static BenchRun FromJson(string json) =>
        JsonSerializer.Deserialize<BenchRun>(json, Json) ?? throw new JsonException("the file holds null, not a benchmark run");
}

/// <summary>Where the numbers were measured.</summary>
public sealed record MachineInfo
{
    public required int Cpus { get; init; }

    public required string CpuModel { get; init; }

    public required double MemoryGiB { get; init; }

    public required string HostKernel { get; init; }

    public required string GuestKernel { get; init; }

    /// <summary>tcg or kvm.</summary>
    public required string Accelerator { get; init; }

    public required string QemuVersion { get; init; }

    /// <summary>Each guest's RAM (QEMU -m), the same for every file system.</summary>
    public required string GuestMemory { get; init; }

    public required int GuestCpus { get; init; }
}

/// <summary>The sizes every file system was measured with.</summary>
public sealed record BenchSizes
{
    /// <summary>Runs per figure; the figure is their median.</summary>
    public required int Runs { get; init; }

    /// <summary>The sequential file (seqwrite, seqread, mmapread; random I/O inside it), MiB.</summary>
    public required int FileMiB { get; init; }

    /// <summary>Sequential requests, bytes (1 MiB).</summary>
    public required int SequentialRequestBytes { get; init; }

    /// <summary>Random requests, bytes (4 KiB).</summary>
    public required int RandomRequestBytes { get; init; }

    /// <summary>Random reads or writes per run.</summary>
    public required int RandomOps { get; init; }

    /// <summary>Small files created, stat'ed, listed and unlinked per run.</summary>
    public required int MetadataFiles { get; init; }

    /// <summary>The file one guest writes and the other reads, MiB.</summary>
    public required int TransferMiB { get; init; }

    /// <summary>Change-and-see round trips per latency run.</summary>
    public required int LatencyRounds { get; init; }

    /// <summary>The directory sizes of the directory-scaling part, ascending (null in runs made before it).</summary>
    public IReadOnlyList<int>? DirScaleFiles { get; init; }
}

/// <summary>One file system of the comparison.</summary>
public sealed record FileSystemInfo
{
    /// <summary>tmpfs, stargate, stargate-mmap, stargate-nopoll, 9p, virtiofs, nfs, samba.</summary>
    public required string Id { get; init; }

    /// <summary>Its name in the table.</summary>
    public required string Label { get; init; }

    /// <summary>How the harness set it up (server, QEMU device, guest mount options), one line.</summary>
    public required string Setup { get; init; }

    /// <summary>Null when it ran; otherwise why none of its workloads ran (a server that did not start).</summary>
    public string? Error { get; init; }
}

/// <summary>
/// What every figure of the results holds: its unit, the value of each run, and what they make
/// (<see cref="Summarize"/>), or why it failed.
/// </summary>
public abstract record Figure
{
    /// <summary>The unit of every number below.</summary>
    public required string Unit { get; init; }

    /// <summary>The value of each run, in run order (empty when it failed).</summary>
    public required IReadOnlyList<double> Runs { get; init; }

    public double? Median { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }

    /// <summary>Null when every run succeeded; otherwise what went wrong (and no figure).</summary>
    public string? Error { get; init; }

    /// <summary>The one definition of a figure: the median of @runs (at least one), with their min and max.</summary>
    public static (double Median, double Min, double Max) Summarize(IReadOnlyList<double> runs)
    {
        if (runs.Count == 0)
        {
            throw new ArgumentException("a measurement needs at least one run", nameof(runs));
        }

        var sorted = runs.Order().ToArray();
        double median = sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return (median, sorted[0], sorted[^1]);
    }
}

/// <summary>One figure: a workload on a file system, over Sizes.Runs runs, in the workload's unit (<see cref="Workload.Unit"/>).</summary>
public sealed record Measurement : Figure
{
    public required string FileSystem { get; init; }

    /// <summary>A <see cref="Workload.Id"/>.</summary>
    public required string Workload { get; init; }

    /// <summary>A measurement from @runs (at least one value).</summary>
    public static Measurement Of(string fileSystem, Workload workload, IReadOnlyList<double> runs)
    {
        var (median, min, max) = Summarize(runs);
        return new Measurement
        {
            FileSystem = fileSystem,
            Workload = workload.Id,
            Unit = workload.Unit,
            Runs = runs,
            Median = median,
            Min = min,
            Max = max,
        };
    }

    /// <summary>A workload that could not be measured, with the reason.</summary>
    public static Measurement Failed(string fileSystem, Workload workload, string error) => new()
    {
        FileSystem = fileSystem,
        Workload = workload.Id,
        Unit = workload.Unit,
        Runs = [],
        Error = error,
    };
}
