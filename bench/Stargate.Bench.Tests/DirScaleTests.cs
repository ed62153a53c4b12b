using Stargate.Bench.Report;
using Stargate.Host.Zones;

namespace Stargate.Bench.Tests;

/// <summary>The directory-scaling part: sgbench's line, the growth ratios and the goal, the report, the check and the options.</summary>
public sealed class DirScaleTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("stargate-bench-tests-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void CostPerOperation_DividesEachLoopsTimeByTheFiles()
    {
        var result = SgbenchResult.Parse(
            ["some output", "sgbench workload=dirscale bytes=0 ops=1000 ns=10000000 create_ns=4000000 stat_ns=1000000 rename_ns=3000000 unlink_ns=2000000"], "guest A");

        var costs = GuestDirScale.CostPerOperation(result, 1000);

        Assert.Equal([("create", 4.0), ("stat", 1.0), ("rename", 3.0), ("unlink", 2.0)], costs);
    }

    [Theory]
    [InlineData("sgbench workload=dirscale bytes=0 ops=999 ns=4 create_ns=1 stat_ns=1 rename_ns=1 unlink_ns=1", "ops=999")]
    [InlineData("sgbench workload=create bytes=0 ops=1000 ns=4 create_ns=1 stat_ns=1 rename_ns=1 unlink_ns=1", "workload=create")]
    [InlineData("sgbench workload=dirscale bytes=0 ops=1000 ns=3 create_ns=1 stat_ns=1 unlink_ns=1", "rename_ns")]
    [InlineData("sgbench workload=dirscale bytes=0 ops=1000 ns=3 create_ns=1 stat_ns=0 rename_ns=1 unlink_ns=1", "stat_ns")]
    public void CostPerOperation_OfAnotherLineOrAMissingTime_FailsNamingIt(string line, string named)
    {
        var result = SgbenchResult.Parse([line], "guest A");

        var e = Assert.Throws<BenchException>(() => GuestDirScale.CostPerOperation(result, 1000));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Growth_IsTheLargestSizesMedianOverTheSmallests()
    {
        var run = SampleRuns.WithDirScale(SampleRuns.Good());

        Assert.Equal([100, 1000, 10_000], DirScaleFigures.Files(run));
        Assert.Equal(1.0, DirScaleFigures.Growth(run, DirScaleSide.GuestStargate, "create")!.Value, 12);
        Assert.Equal(1.2, DirScaleFigures.Growth(run, DirScaleSide.GuestStargate, "rename")!.Value, 12);
        Assert.Equal(3.0, DirScaleFigures.Growth(run, DirScaleSide.GuestStargate, "unlink")!.Value, 12);
        Assert.Equal(2.0, DirScaleFigures.Growth(run, DirScaleSide.GuestTmpfs, "stat")!.Value, 12);
        Assert.Null(DirScaleFigures.Growth(run, DirScaleSide.Host, "unlink"));
    }

    [Theory]
    [InlineData(1.5, true)]
    [InlineData(0.2, true)]
    [InlineData(1.5000001, false)]
    public void MeetsGoal_IsAtMostOneAndAHalfTimes(double growth, bool met) =>
        Assert.Equal(met, DirScaleFigures.MeetsGoal(growth));

    [Fact]
    public void Growth_OfARunWithOneSizeOrNone_IsNull()
    {
        var run = SampleRuns.WithDirScale(SampleRuns.Good());
        var one = run with { DirScale = [.. run.DirScale!.Where(m => m.Files == 100)] };

        Assert.Null(DirScaleFigures.Growth(one, DirScaleSide.GuestStargate, "create"));
        Assert.Null(DirScaleFigures.Growth(SampleRuns.Good(), DirScaleSide.GuestStargate, "create"));
    }

    [Fact]
    public void Render_OfARunWithoutThePart_HasNoSection()
    {
        string md = MarkdownReport.Render(SampleRuns.Good());

        Assert.DoesNotContain("Directories that scale", md, StringComparison.Ordinal);
        Assert.DoesNotContain("dirscale", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_GivesEveryFigureAndMarksTheGoalOnStargateAndTheHostOnly()
    {
        string md = MarkdownReport.Render(SampleRuns.WithDirScale(SampleRuns.Good()));

        Assert.Contains("## Directories that scale", md, StringComparison.Ordinal);
        Assert.Contains("| Operation | n | guest, stargatefs | guest, tmpfs | host library |", md, StringComparison.Ordinal);
        Assert.Contains("| create | 100 | 100 (99.0–101) | 2.00 (1.98–2.02) | 10.0 (9.90–10.1) |", md, StringComparison.Ordinal);
        Assert.Contains("| unlink | 10,000 | 300 (297–303) | 4.00 (3.96–4.04) | failed [1] |", md, StringComparison.Ordinal);
        Assert.Contains($"- [1] host library, n = 10,000: {SampleRuns.HostUnlinkError}", md, StringComparison.Ordinal);
        Assert.Contains("| create | 1.00x, met | 2.00x | 1.00x, met |", md, StringComparison.Ordinal);
        Assert.Contains("| rename | 1.20x, met | 2.00x | 1.00x, met |", md, StringComparison.Ordinal);
        Assert.Contains("| unlink | 3.00x, not met | 2.00x | – |", md, StringComparison.Ordinal);
        Assert.Contains("This run stops at n = 10,000", md, StringComparison.Ordinal);
        Assert.EndsWith("![cost per operation against the directory's size](quick-20261121T1015Z-dirscale.png)\n", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_OfARunUpToTheGoalsSize_SaysNothingOfAShorterRun()
    {
        var run = SampleRuns.WithDirScale(SampleRuns.Good());
        run = run with
        {
            Sizes = run.Sizes with { DirScaleFiles = [100, 1000, 100_000] },
            DirScale = [.. run.DirScale!.Select(m => m.Files == 10_000 ? m with { Files = 100_000 } : m)],
        };

        string md = MarkdownReport.Render(run);

        Assert.Contains("median at n = 100,000 over its median at n = 100", md, StringComparison.Ordinal);
        Assert.DoesNotContain("This run stops", md, StringComparison.Ordinal);
        Assert.Empty(ResultsCheck.Problems(run));
    }

    [Fact]
    public void Problems_OfAWellFormedRunWithThePart_AreNone() =>
        Assert.Empty(ResultsCheck.Problems(SampleRuns.WithDirScale(SampleRuns.Good())));

    [Fact]
    public void Problems_NameAMedianThatDisagreesWithItsRunsAndAMissingFigure()
    {
        var run = SampleRuns.WithDirScale(SampleRuns.Good());
        run = run with
        {
            DirScale = [.. run.DirScale!
                .Where(m => !(m.Side == "guest-tmpfs" && m.Operation == "stat" && m.Files == 1000))
                .Select(m => m.Side == "host" && m.Operation == "create" && m.Files == 100 ? m with { Median = 11 } : m)],
        };

        var problems = ResultsCheck.Problems(run);

        Assert.Contains(problems, p => p.Contains("(host, create, n=100): median 11", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("guest-tmpfs, stat, n=1000: no result", StringComparison.Ordinal));
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public void Problems_NameAnUnknownSideAndASizeTheSizesDoNotList()
    {
        var run = SampleRuns.WithDirScale(SampleRuns.Good());
        run = run with { DirScale = [.. run.DirScale!, DirScaleMeasurement.Of("guest-nfs", "create", 100, [1]), DirScaleMeasurement.Of("host", "create", 5, [1, 1, 1])] };

        var problems = ResultsCheck.Problems(run);

        Assert.Contains(problems, p => p.Contains("no side guest-nfs", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("n=5 is not among the sizes' 100, 1000, 10000", StringComparison.Ordinal));
    }

    [Fact]
    public void FromJson_OfToJson_KeepsThePart()
    {
        var run = SampleRuns.WithDirScale(SampleRuns.Good());

        var back = BenchRun.FromJson(run.ToJson());

        Assert.Equal(run.ToJson(), back.ToJson());
        Assert.Equal(run.Sizes.DirScaleFiles, back.Sizes.DirScaleFiles);
        Assert.Equal(run.DirScale!.Count, back.DirScale!.Count);
        Assert.All(back.DirScale, m => Assert.Equal("µs/op", m.Unit));
        Assert.Equal(run.DirScale.Select(m => m.Runs), back.DirScale.Select(m => m.Runs));
    }

    [Fact]
    public void FromJson_OfARunMadeBeforeThePart_HasNone()
    {
        var back = BenchRun.FromJson(SampleRuns.Good().ToJson());

        Assert.Null(back.DirScale);
        Assert.Null(back.Sizes.DirScaleFiles);
        Assert.DoesNotContain("dirScale", SampleRuns.Good().ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void DataFile_HasARowPerSizeAndAGapWhereAFigureFailed()
    {
        string data = DirScaleChart.DataFile(SampleRuns.WithDirScale(SampleRuns.Good()), "unlink");

        string[] lines = data.TrimEnd('\n').Split('\n');
        Assert.Equal("# n guest-stargate:median,min,max guest-tmpfs:median,min,max host:median,min,max", lines[0]);
        Assert.Equal(["100", "1000", "10000"], lines.Skip(1).Select(l => l.Split(' ')[0]));
        Assert.EndsWith(" ? ? ?", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("100 100 99 101 2 1.98 2.02 10 9.9 10.1", lines[1], StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Render_DrawsAPng()
    {
        ChartReportTests.SkipWithoutGnuplot();
        string png = Path.Combine(_folder.FullName, "run-dirscale.png");

        DirScaleChart.Render(SampleRuns.WithDirScale(SampleRuns.Good()), png);

        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.InRange(bytes.Length, 10_000, 2_000_000);
    }

    [SkippableFact]
    public void Render_OfARunWhoseFiguresAllFailed_StillDrawsAPng()
    {
        ChartReportTests.SkipWithoutGnuplot();
        var run = SampleRuns.WithDirScale(SampleRuns.Good());
        run = run with { DirScale = [.. run.DirScale!.Select(m => DirScaleMeasurement.Failed(m.Side, m.Operation, m.Files, "guest did not boot"))] };
        string png = Path.Combine(_folder.FullName, "failed-dirscale.png");

        DirScaleChart.Render(run, png);

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
    }

    [Fact]
    public void Render_OfTheDirScalePartAlone_HasNoWorkloadTables()
    {
        var run = SampleRuns.WithDirScale(SampleRuns.Good()) with { Results = [] };

        string md = MarkdownReport.Render(run);

        Assert.DoesNotContain("## Results", md, StringComparison.Ordinal);
        Assert.DoesNotContain("## Goals", md, StringComparison.Ordinal);
        Assert.DoesNotContain("![throughput]", md, StringComparison.Ordinal);
        Assert.Contains("\n\n## Directories that scale\n\n", md, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "tmpfs,stargate,nfs", "workloads,dirscale", "tmpfs,stargate,nfs")]
    [InlineData(null, "tmpfs,nfs", "workloads", "tmpfs,nfs")]
    [InlineData("dirscale", "tmpfs,stargate,nfs", "dirscale", "stargate")]
    [InlineData("workloads", "tmpfs,stargate", "workloads", "tmpfs,stargate")]
    [InlineData("workloads,dirscale", "stargate", "workloads,dirscale", "stargate")]
    public void ChooseParts_RunsDirScaleInTheStargateGuest(string? parts, string only, string expectedParts, string expectedFileSystems)
    {
        var (fileSystems, chosen) = BenchSettings.ChooseParts(only.Split(','), parts?.Split(','));

        Assert.Equal(expectedParts.Split(','), chosen);
        Assert.Equal(expectedFileSystems.Split(','), fileSystems);
    }

    [Fact]
    public void ChooseParts_DirScaleWithoutStargate_IsRefusedSayingHowToFixIt()
    {
        var e = Assert.Throws<BenchUsageException>(() => BenchSettings.ChooseParts(["nfs"], ["dirscale"]));

        Assert.Contains("add stargate to --only", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("100,1000,10000", new[] { 100, 1000, 10_000 })]
    [InlineData("7", new[] { 7 })]
    public void DirScaleFiles_TakesAscendingSizes(string text, int[] expected) =>
        Assert.Equal(expected, BenchSettings.DirScaleFiles(text));

    [Theory]
    [InlineData("1000,100", "ascending")]
    [InlineData("100,100", "ascending")]
    [InlineData("0", "from 1 to 1000000")]
    [InlineData("100,x", "not 'x'")]
    [InlineData("2000000", "from 1 to 1000000")]
    public void DirScaleFiles_RefusesAnythingElse(string text, string said)
    {
        var e = Assert.Throws<BenchUsageException>(() => BenchSettings.DirScaleFiles(text));

        Assert.Contains(said, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZoneSize_HasAnInodeForEveryFileOfTheLargestDirectory()
    {
        foreach (var sizes in new[] { BenchSettings.QuickSizes, BenchSettings.FullSizes })
        {
            ulong size = Harness.ZoneSize(sizes, dirScale: true);
            var geometry = ZoneGeometry.ForSize(size);

            Assert.True(System.Numerics.BitOperations.IsPow2(size));
            Assert.True(geometry.InodeCount > (ulong)(sizes.DirScaleFiles!.Max() + sizes.MetadataFiles + 2), $"{geometry.InodeCount} inodes in a zone of {size >> 20} MiB");
        }

        Assert.Equal(2UL << 30, Harness.ZoneSize(BenchSettings.FullSizes, dirScale: true));
        Assert.Equal(1UL << 30, Harness.ZoneSize(BenchSettings.FullSizes, dirScale: false));
    }

    [Fact]
    public void HostRunOnce_LeavesTheZoneAsItFoundIt()
    {
        string path = Path.Combine(_folder.FullName, "z.zone");
        Zone.Format(path, 64UL << 20);
        using var zone = Zone.Open(path, ZoneAccess.ReadWrite, "test");

        var costs = HostDirScale.RunOnce(zone, 50);

        Assert.Equal(DirScaleSide.Operations, costs.Select(c => c.Operation));
        Assert.All(costs, c => Assert.True(c.Cost > 0));
        Assert.Empty(zone.Names.ReadDirectory("/"));
        Assert.Equal(1UL, zone.Summarize().InodesUsed);
    }

    [Fact]
    public void HostRunRounds_RepeatsTheRunsAndLeavesTheZoneAsItFoundIt()
    {
        string path = Path.Combine(_folder.FullName, "z.zone");
        Zone.Format(path, 64UL << 20);
        using var zone = Zone.Open(path, ZoneAccess.ReadWrite, "test");

        var costs = HostDirScale.RunRounds(zone, 20, 3);

        Assert.Equal(DirScaleSide.Operations, costs.Select(c => c.Operation));
        Assert.All(costs, c => Assert.True(c.Cost > 0));
        Assert.Empty(zone.Names.ReadDirectory("/"));
        Assert.Equal(1UL, zone.Summarize().InodesUsed);
        Assert.Throws<ArgumentOutOfRangeException>(() => HostDirScale.RunRounds(zone, 20, 0));
    }

    [Theory]
    [InlineData(100, 1000)]
    [InlineData(1000, 100)]
    [InlineData(100_000, 1)]
    [InlineData(1_000_000, 1)]
    public void HostRoundsFor_GivesEveryFigureTheSameNumberOfOperations(int files, int rounds) =>
        Assert.Equal(rounds, HostDirScale.RoundsFor(files));
}
