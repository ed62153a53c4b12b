using Stargate.Bench.Report;

namespace Stargate.Bench.Tests;

public class ResultsCheckTests
{
    /// <summary>Each way a run can be malformed: the mutation of a good run, and what the check must say about it.</summary>
    private static readonly Dictionary<string, (Func<BenchRun, BenchRun> Mutate, string Problem)> Malformations = new()
    {
        ["empty name"] = (r => r with { Name = " " }, "name is empty"),
        ["name with a slash"] = (r => r with { Name = "quick/1" }, "cannot name the results files"),
        ["empty mode"] = (r => r with { Mode = "" }, "mode is empty"),
        ["empty commit"] = (r => r with { Commit = "" }, "commit is empty"),
        ["no start time"] = (r => r with { Started = default }, "start time is not set"),
        ["zero duration"] = (r => r with { DurationSeconds = 0 }, "duration 0 s"),
        ["no machine"] = (r => r with { Machine = null! }, "the machine is missing"),
        ["zero CPUs"] = (r => r with { Machine = r.Machine with { Cpus = 0 } }, "machine: 0 CPUs"),
        ["no RAM"] = (r => r with { Machine = r.Machine with { MemoryGiB = double.NaN } }, "machine: NaN GiB"),
        ["zero guest CPUs"] = (r => r with { Machine = r.Machine with { GuestCpus = 0 } }, "0 guest vCPUs"),
        ["empty CPU model"] = (r => r with { Machine = r.Machine with { CpuModel = "" } }, "the CPU model is empty"),
        ["empty host kernel"] = (r => r with { Machine = r.Machine with { HostKernel = "" } }, "the host kernel is empty"),
        ["empty guest kernel"] = (r => r with { Machine = r.Machine with { GuestKernel = "" } }, "the guest kernel is empty"),
        ["empty QEMU version"] = (r => r with { Machine = r.Machine with { QemuVersion = "" } }, "the QEMU version is empty"),
        ["empty guest memory"] = (r => r with { Machine = r.Machine with { GuestMemory = "" } }, "the guest memory is empty"),
        ["unknown accelerator"] = (r => r with { Machine = r.Machine with { Accelerator = "hvf" } }, "accelerator 'hvf'"),
        ["no sizes"] = (r => r with { Sizes = null! }, "the sizes are missing"),
        ["zero runs"] = (r => r with { Sizes = r.Sizes with { Runs = 0 } }, "sizes: runs is 0"),
        ["zero file size"] = (r => r with { Sizes = r.Sizes with { FileMiB = 0 } }, "sizes: file MiB is 0"),
        ["zero sequential request"] = (r => r with { Sizes = r.Sizes with { SequentialRequestBytes = 0 } }, "sequential request bytes is 0"),
        ["zero random request"] = (r => r with { Sizes = r.Sizes with { RandomRequestBytes = -4096 } }, "random request bytes is -4096"),
        ["zero random ops"] = (r => r with { Sizes = r.Sizes with { RandomOps = 0 } }, "random ops is 0"),
        ["zero metadata files"] = (r => r with { Sizes = r.Sizes with { MetadataFiles = 0 } }, "metadata files is 0"),
        ["zero transfer"] = (r => r with { Sizes = r.Sizes with { TransferMiB = 0 } }, "transfer MiB is 0"),
        ["zero latency rounds"] = (r => r with { Sizes = r.Sizes with { LatencyRounds = 0 } }, "latency rounds is 0"),
        ["no file systems"] = (r => r with { FileSystems = [] }, "the run has no file system"),
        ["a file system twice"] = (r => r with { FileSystems = [.. r.FileSystems, r.FileSystems[0]] }, "file system tmpfs is listed twice"),
        ["a file system without id"] = (r => r with { FileSystems = [.. r.FileSystems, r.FileSystems[0] with { Id = "" }] }, "file system 7 has no id"),
        ["a file system without setup"] = (r => MapFileSystem(r, "nfs", fs => fs with { Setup = "" }), "file system nfs: the setup is empty"),
        ["a file system with an empty error"] = (r => MapFileSystem(r, "nfs", fs => fs with { Error = "" }), "file system nfs: the error is set but empty"),
        ["a result of an unknown file system"] = (r => MapResult(r, m => m with { FileSystem = "ext4" }), "no file system ext4 in the run"),
        ["a result of an unknown workload"] = (r => MapResult(r, m => m with { Workload = "fsync" }), "no workload fsync"),
        ["a result in another unit"] = (r => MapResult(r, m => m with { Unit = "MB/s" }), "unit 'MB/s', the workload's is 'MiB/s'"),
        ["a result twice"] = (r => r with { Results = [.. r.Results, r.Results[0]] }, "a second result for the same file system and workload"),
        ["a failure with runs"] = (r => MapFailed(r, m => m with { Runs = [1.0] }), "failed, yet has 1 runs"),
        ["a failure with a median"] = (r => MapFailed(r, m => m with { Median = 1.0 }), "failed, yet has a median, min or max"),
        ["a failure with an empty error"] = (r => MapFailed(r, m => m with { Error = "" }), "the error is set but empty"),
        ["a figure without runs"] = (r => MapResult(r, m => m with { Runs = [] }), "no runs and no error"),
        ["a figure with too few runs"] = (r => MapResult(r, m => Measurement.Of(m.FileSystem, Workload.ById(m.Workload), m.Runs.Take(2).ToList())), "2 runs, the sizes say 3"),
        ["a run that is not a number"] = (r => MapResult(r, m => m with { Runs = [m.Runs[0], double.NaN, m.Runs[2]] }), "runs that are not positive numbers: NaN"),
        ["a run that is infinite"] = (r => MapResult(r, m => m with { Runs = [m.Runs[0], double.PositiveInfinity, m.Runs[2]] }), "runs that are not positive numbers: Infinity"),
        ["a run of zero"] = (r => MapResult(r, m => m with { Runs = [0, m.Runs[1], m.Runs[2]] }), "runs that are not positive numbers: 0"),
        ["a wrong median"] = (r => MapResult(r, m => m with { Median = m.Median + 1 }), "do not match its runs"),
        ["a wrong min"] = (r => MapResult(r, m => m with { Min = m.Max }), "do not match its runs"),
        ["a missing max"] = (r => MapResult(r, m => m with { Max = null }), "do not match its runs"),
        ["a figure of a file system that failed"] = (r => r with { Results = [.. r.Results, Measurement.Of("samba", Workload.Stat, [1, 2, 3])] }, "its file system failed as a whole"),
    };

    public static TheoryData<string> MalformationNames => [.. Malformations.Keys];

    [Fact]
    public void Problems_OfAGoodRun_AreNone()
    {
        Assert.Empty(ResultsCheck.Problems(SampleRuns.Good()));
    }

    [Fact]
    public void Problems_OfAGoodRunReadBackFromJson_AreNone()
    {
        Assert.Empty(ResultsCheck.Problems(BenchRun.FromJson(SampleRuns.Good().ToJson())));
    }

    [Theory]
    [MemberData(nameof(MalformationNames))]
    public void Problems_FindEachMalformation(string name)
    {
        var (mutate, problem) = Malformations[name];
        var problems = ResultsCheck.Problems(mutate(SampleRuns.Good()));
        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Problems_OfAJsonFileWithNulls_AreReportedNotThrown()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(SampleRuns.Good().ToJson())!;
        json["name"] = null;
        json["fileSystems"]![0]!["label"] = null;
        json["results"]![0]!["runs"] = null;
        var problems = ResultsCheck.Problems(BenchRun.FromJson(json.ToJsonString()));
        Assert.Contains("name is empty", problems);
        Assert.Contains("file system tmpfs: the label is empty", problems);
        Assert.Contains("result 0 (tmpfs, seqwrite): no runs and no error", problems);
    }

    [Fact]
    public void Problems_WithExpectations_MetByTheRun_AreNone()
    {
        var expected = new Dictionary<string, IReadOnlyList<string>>
        {
            ["tmpfs"] = ["seqwrite", "seqread", "mmapread"],
            ["stargate"] = [.. Workload.All.Select(w => w.Id)],
        };
        Assert.Empty(ResultsCheck.Problems(SampleRuns.Good(), expected));
    }

    [Fact]
    public void Problems_WithExpectations_FindAMissingAFailedAndAnAbsentFileSystem()
    {
        var expected = new Dictionary<string, IReadOnlyList<string>>
        {
            ["tmpfs"] = ["transfer"],
            ["9p"] = ["seqread", "randwrite"],
            ["samba"] = ["seqread"],
            ["ext4"] = [],
        };
        var problems = ResultsCheck.Problems(SampleRuns.Good(), expected);
        Assert.Equal(
            [
                "9p, randwrite: expected a figure, it failed: " + SampleRuns.NinePRandWriteError,
                "file system ext4 is expected but not in the run",
                "samba, seqread: expected a result, the run has none",
                "tmpfs, transfer: expected a result, the run has none",
            ],
            problems);
    }

    [Fact]
    public void Problems_WithAnExpectationOfAnUnknownWorkload_RejectTheExpectation()
    {
        var expected = new Dictionary<string, IReadOnlyList<string>> { ["tmpfs"] = ["fsync"] };
        var e = Assert.Throws<ArgumentException>(() => ResultsCheck.Problems(SampleRuns.Good(), expected));
        Assert.Contains("no workload 'fsync'", e.Message, StringComparison.Ordinal);
    }

    private static BenchRun MapFileSystem(BenchRun run, string id, Func<FileSystemInfo, FileSystemInfo> change) =>
        run with { FileSystems = [.. run.FileSystems.Select(fs => fs.Id == id ? change(fs) : fs)] };

    /// <summary>@run with its first result (tmpfs, seqwrite: a figure) changed.</summary>
    private static BenchRun MapResult(BenchRun run, Func<Measurement, Measurement> change) =>
        run with { Results = [change(run.Results[0]), .. run.Results.Skip(1)] };

    /// <summary>@run with 9p's failed random write changed.</summary>
    private static BenchRun MapFailed(BenchRun run, Func<Measurement, Measurement> change) =>
        SampleRuns.WithResult(run, SampleRuns.NineP, Workload.RandWrite, change);
}
