using System.Globalization;
using System.Text.RegularExpressions;
using Stargate.Bench.Report;
using Stargate.Guests.Checkout;
using Stargate.Guests.Qemu;
using Stargate.Testing;

namespace Stargate.Bench.Tests;

/// <summary>
/// The harness itself, run as `stargate-bench` is run: over every file system with tiny sizes
/// and one run, it must write results that are well formed and hold every figure that applies
/// (not any particular number); and a wrong argument is one clear line and exit 2.
/// </summary>
public sealed class HarnessTests
{
    private static readonly string Bench = Path.Combine(AppContext.BaseDirectory, "stargate-bench.dll");

    [SkippableFact]
    public void Run_OverEveryFileSystem_WritesWellFormedResultsWithEveryFigure()
    {
        Skip.If(GuestEnvironment.Find(out string reason) is null, reason);
        Skip.IfNot(Environment.UserName == "root", "nfs-ganesha's VFS backend and smbd's root share need root");
        string output = Directory.CreateTempSubdirectory("stargate-bench-test-").FullName;
        try
        {
            var result = ProcessRunner.Run("dotnet",
                [Bench, "--quick", "--runs", "2", "--file-mib", "4", "--random-ops", "50", "--files", "20", "--transfer-mib", "4", "--rounds", "3", "--dirscale-files", "10,100", "--name", "smoke", "--output", output],
                timeout: TimeSpan.FromMinutes(30));
            Assert.True(result.ExitCode == 0, result.ToString());

            // Side by side: every file system is up before any run, and run 1 is done on each before run 2 starts.
            var progress = result.Stdout.Split('\n').Select(line => Regex.Match(line, @"^  (\S+): (?:run (\d) of 2 done|\d guest\(s\) up)")).Where(m => m.Success).ToList();
            string order = string.Join(", ", progress.Select(m => $"{m.Groups[1].Value} {(m.Groups[2].Success ? "run " + m.Groups[2].Value : "up")}"));
            Assert.True(progress.Count == 3 * BenchSettings.FileSystemIds.Count, order);
            Assert.True(progress.Select(m => m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0).Order().SequenceEqual(progress.Select(m => m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0)), $"runs not interleaved: {order}");

            var run = BenchRun.FromJson(File.ReadAllText(Path.Combine(output, "smoke.json")));
            // Written out here, not taken from the harness's own Measures: a harness that
            // dropped a workload must fail this test.
            string[] all = [.. Workload.All.Select(w => w.Id)];
            var expected = new Dictionary<string, IReadOnlyList<string>>
            {
                ["tmpfs"] = [.. all.Except(["transfer", "latency"])],
                ["stargate"] = all,
                ["stargate-mmap"] = ["seqwrite", "seqread", "randwrite", "randread", "mmapread", "transfer"],
                ["stargate-nopoll"] = ["create", "stat", "readdir", "unlink", "rtt"],
                ["9p"] = all,
                ["virtiofs"] = all,
                ["nfs"] = all,
                ["samba"] = all,
            };
            var problems = ResultsCheck.Problems(run, expected);
            Assert.True(problems.Count == 0, string.Join('\n', problems));
            var unexpected = run.Results.Where(m => !expected[m.FileSystem].Contains(m.Workload)).Select(m => $"{m.FileSystem} {m.Workload}");
            Assert.Empty(unexpected);
            Assert.Equal(BenchSettings.FileSystemIds, run.FileSystems.Select(f => f.Id));

            // The directory-scaling part: every side, operation and size, none failed.
            Assert.NotNull(run.DirScale);
            Assert.Equal(DirScaleSide.All.Count * DirScaleSide.Operations.Count * 2, run.DirScale.Count);
            Assert.All(run.DirScale, d => Assert.Null(d.Error));
            Assert.True(File.Exists(Path.Combine(output, "smoke-dirscale.png")), "smoke-dirscale.png is missing");

            // The request round trip by step, on both Stargate file systems that count it.
            Assert.Equal(["stargate", "stargate-nopoll"], run.RequestSteps!.Select(s => s.FileSystem));
            Assert.All(run.RequestSteps!, s => Assert.True(s.Requests >= 20 && s.WaitUs > 0 && s.HostChangeUs > 0, s.ToString()));
            Assert.Equal(0, run.RequestSteps!.Single(s => s.FileSystem == "stargate-nopoll").PolledShare);

            string markdown = File.ReadAllText(Path.Combine(output, "smoke.md"));
            Assert.Equal(MarkdownReport.Render(run), markdown);
            byte[] png = File.ReadAllBytes(Path.Combine(output, "smoke.png"));
            Assert.True(png.Length > 1000 && png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "smoke.png is not a PNG");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Theory]
    [InlineData("--runs 0", "--runs takes a whole number from 1 to 99, not '0'")]
    [InlineData("--file-mib lots", "--file-mib takes a whole number from 1 to 16384, not 'lots'")]
    [InlineData("--only tmpfs,ext4", "--only: no file system 'ext4'")]
    [InlineData("--name ../x", "--name '../x': use letters, digits")]
    [InlineData("--guest-memory 1T", "--guest-memory '1T': write it as QEMU does")]
    [InlineData("--rounds", "--rounds needs a value")]
    [InlineData("--fast", "unknown argument '--fast'")]
    public void Run_WithAWrongArgument_SaysWhatIsWrongAndExits2(string arguments, string message)
    {
        var result = ProcessRunner.Run("dotnet", [Bench, .. arguments.Split(' ')], timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"stargate-bench: {message}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("usage: stargate-bench", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void CommittedResults_AreWellFormed_AndTheirTablesAreTheirs()
    {
        // bench/results/NAME.json as the harness wrote it: well formed, with its NAME.md
        // rendered from it (a table edited by hand, or left from another run, fails).
        string results = Path.Combine(RepoPaths.Root, "bench", "results");
        var files = Directory.EnumerateFiles(results, "*.json").ToList();
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            var run = BenchRun.FromJson(File.ReadAllText(file));
            var problems = ResultsCheck.Problems(run);
            Assert.True(problems.Count == 0, $"{file}:\n{string.Join('\n', problems)}");
            Assert.Equal(Path.GetFileNameWithoutExtension(file), run.Name);
            Assert.Equal(MarkdownReport.Render(run), File.ReadAllText(Path.ChangeExtension(file, ".md")));
            // A run's charts: the throughput one when it measured workloads, the directory-scaling one when it has that part.
            Assert.True(run.Results.Count == 0 || File.Exists(Path.ChangeExtension(file, ".png")), $"{file} has no chart beside it");
            Assert.True(run.DirScale is null || File.Exists(Path.ChangeExtension(file, null) + "-dirscale.png"), $"{file} has no dirscale chart beside it");
        }
    }
}
