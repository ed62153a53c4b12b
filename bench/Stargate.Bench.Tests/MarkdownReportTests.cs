using Stargate.Bench.Report;

namespace Stargate.Bench.Tests;

public class MarkdownReportTests
{
    private static readonly string Rendered = MarkdownReport.Render(SampleRuns.Good());

    [Fact]
    public void Render_StartsWithTheRunsNameAndSaysWhereAndHowItWasMeasured()
    {
        Assert.StartsWith("# Stargate benchmark: quick-20261121T1015Z\n\n", Rendered, StringComparison.Ordinal);
        string setting = Rendered.Split("\n\n")[1];
        foreach (string fact in new[]
        {
            "2 CPUs (AMD EPYC 7B13)", "7.75 GiB of RAM", "kernel 6.12.48+deb13-cloud-amd64", "kernel 6.12.48+deb13-amd64",
            "QEMU 10.0.3 under TCG", "512M of RAM and 1 vCPU.", "a 64 MiB file in 1 MiB sequential requests",
            "2000 random 4 KiB requests", "500 small files", "32 MiB sent", "100 latency round trips",
            "median of 3 runs", "(min–max)", "started 2026-11-21 10:15 UTC", "took 12 min 34 s", "commit v0.3-12-gabcdef0-dirty",
        })
        {
            Assert.Contains(fact, setting, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Render_ListsEveryFileSystemWithItsSetupAndItsError()
    {
        Assert.Contains("- **virtio-9p** (9p): 9p as set up for the test, mount -o rw\n", Rendered, StringComparison.Ordinal);
        Assert.Contains($"- **Samba** (samba): samba as set up for the test, mount -o rw **Error:** {SampleRuns.SambaError}\n", Rendered, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_HaveAColumnPerFileSystemInTheRunsOrderAndARowPerWorkloadInTableOrder()
    {
        var rows = TableRows(Section(Rendered, "## Results"));
        Assert.Equal("| Workload | guest tmpfs | Stargate | Stargate (mmap) | virtio-9p | virtio-fs | NFS | Samba |", rows[0]);
        Assert.Equal(Workload.All.Select(w => $"{w.Label} ({w.Unit})"), rows.Skip(2).Select(r => Cells(r)[0]));
    }

    [Fact]
    public void Results_WriteTheMedianWithThreeDigitsAndTheSpread()
    {
        var section = Section(Rendered, "## Results");
        Assert.Equal(["1000 (990–1010)", "1000 (990–1010)", "950 (941–960)", "50.0 (49.5–50.5)", "400 (396–404)", "20.0 (19.8–20.2)"],
            Row(section, "sequential read, 1 MiB requests (MiB/s)")[1..7]);
        Assert.Equal("800 (792–808)", Row(section, "mmap read of the large file (MiB/s)")[2]);
    }

    [Fact]
    public void Results_WriteADashWhereTheWorkloadDoesNotApply()
    {
        var section = Section(Rendered, "## Results");
        Assert.Equal("–", Row(section, "guest A writes, guest B reads, end to end (MiB/s)")[1]);
        Assert.Equal("–", Row(section, "cross-VM visibility of a change (µs)")[1]);
    }

    [Fact]
    public void Results_MarkAFailedWorkloadWithANoteUnderTheTableOnOneLine()
    {
        var section = Section(Rendered, "## Results");
        Assert.Equal("failed [2]", Row(section, "random write, 4 KiB (IOPS)")[4]);
        Assert.Contains("\n- [2] virtio-9p, random write, 4 KiB: sgbench: pwrite: Input/output error after 12 ops\n", section, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_MarkEveryCellOfAFileSystemThatFailedAsAWholeWithItsOneNote()
    {
        var section = Section(Rendered, "## Results");
        Assert.All(Workload.All, w => Assert.Equal("failed [1]", Row(section, $"{w.Label} ({w.Unit})")[7]));
        Assert.Contains($"\n- [1] Samba: {SampleRuns.SambaError}\n", section, StringComparison.Ordinal);
        Assert.DoesNotContain("[3]", section, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_CutALongErrorTo300Characters()
    {
        string error = "sgbench: " + string.Concat(Enumerable.Repeat("very long message ", 40));
        var run = SampleRuns.WithResult(SampleRuns.Good(), "nfs", Workload.Stat, _ => Measurement.Failed("nfs", Workload.Stat, error));
        string note = Section(MarkdownReport.Render(run), "## Results").Split('\n').Single(l => l.StartsWith("- [3] NFS", StringComparison.Ordinal));
        string text = note["- [3] NFS, stat small files: ".Length..];
        Assert.Equal(300, text.Length);
        Assert.EndsWith("…", text, StringComparison.Ordinal);
        Assert.StartsWith(error[..200], text, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_EscapeAPipeSoItCannotSplitACell()
    {
        var good = SampleRuns.Good();
        var run = good with { FileSystems = [.. good.FileSystems.Select(fs => fs.Id == "nfs" ? fs with { Label = "NFS | v4" } : fs)] };
        var rows = TableRows(Section(MarkdownReport.Render(run), "## Results"));
        Assert.Contains(@"| NFS \| v4 |", rows[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Ratios_SayWhatARatioMeansAboveTheTable()
    {
        var section = Section(Rendered, "## Stargate against each file system");
        Assert.Contains("above 1x always means Stargate is better", section.Split('|')[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Ratios_HaveAColumnPerOtherFileSystemAndOneForStargateMmapOverTmpfs()
    {
        var rows = TableRows(Section(Rendered, "## Stargate against each file system"));
        Assert.Equal("| Workload | stargate ÷ tmpfs | stargate ÷ 9p | stargate ÷ virtiofs | stargate ÷ nfs | stargate ÷ samba | stargate-mmap ÷ tmpfs |", rows[0]);
    }

    [Fact]
    public void Ratios_DivideStargatesMedianByTheOthers()
    {
        var section = Section(Rendered, "## Stargate against each file system");
        Assert.Equal(["1.00x", "20.0x", "2.50x", "50.0x", "–", "0.950x"], Row(section, "sequential read, 1 MiB requests")[1..]);
        Assert.Equal(["–", "30.0x", "2.25x", "45.0x", "–", "–"], Row(section, "guest A writes, guest B reads, end to end")[1..]);
    }

    [Fact]
    public void Ratios_ForLatencyDivideTheOthersMedianByStargates()
    {
        // Stargate 50 µs, 9p 1000 µs: Stargate is 20 times better, not 0.05.
        var section = Section(Rendered, "## Stargate against each file system");
        Assert.Equal(["–", "20.0x", "2.50x", "50.0x", "–", "–"], Row(section, "cross-VM visibility of a change")[1..]);
    }

    [Fact]
    public void Ratios_LeaveADashWhereAFigureFailed()
    {
        var section = Section(Rendered, "## Stargate against each file system");
        Assert.Equal("–", Row(section, "random write, 4 KiB")[2]);
    }

    [Fact]
    public void Ratios_WithoutStargateSayThereIsNothingToCompare()
    {
        var good = SampleRuns.Good();
        var run = good with
        {
            FileSystems = [.. good.FileSystems.Where(fs => fs.Id != "stargate")],
            Results = [.. good.Results.Where(m => m.FileSystem != "stargate")],
        };
        string section = Section(MarkdownReport.Render(run), "## Stargate against each file system");
        Assert.Contains("no stargate file system", section, StringComparison.Ordinal);
        Assert.Empty(TableRows(section));
    }

    [Fact]
    public void Goals_CompareStargateWithTmpfsAndSayWhetherEachIsMet()
    {
        var section = Section(Rendered, "## Goals");
        Assert.Equal(["Stargate read ≥ 0.9x guest tmpfs", "sequential read 1.00x", "met"], Row(section, "Stargate read ≥ 0.9x guest tmpfs"));
        Assert.Equal(["Stargate mmap ≥ 0.9x guest tmpfs", "mmap read 0.800x", "not met"], Row(section, "Stargate mmap ≥ 0.9x guest tmpfs"));
    }

    [Fact]
    public void Goals_SetThePapersRatiosBesideThisRunsSequentialReadAndTransfer()
    {
        var section = Section(Rendered, "## Goals");
        Assert.Equal("sequential read 20.0x, transfer 30.0x", Row(section, "64x VirtFS (9p)")[1]);
        Assert.Equal("sequential read –, transfer –", Row(section, "172x Samba")[1]);
        Assert.Equal("sequential read 50.0x, transfer 45.0x", Row(section, "191x NFS")[1]);
    }

    [Fact]
    public void Goals_JustBelowTheThresholdAreNotMet()
    {
        var run = SampleRuns.WithResult(SampleRuns.Good(), "stargate", Workload.SeqRead, _ => Measurement.Of("stargate", Workload.SeqRead, [899.9, 899.9, 899.9]));
        Assert.Equal(["Stargate read ≥ 0.9x guest tmpfs", "sequential read 0.900x", "not met"],
            Row(Section(MarkdownReport.Render(run), "## Goals"), "Stargate read ≥ 0.9x guest tmpfs"));
    }

    [Fact]
    public void Goals_WithoutAFigureAreNotMeasured()
    {
        var run = SampleRuns.WithResult(SampleRuns.Good(), "tmpfs", Workload.MmapRead, _ => Measurement.Failed("tmpfs", Workload.MmapRead, "sgbench: mmap: ENOMEM"));
        Assert.Equal(["Stargate mmap ≥ 0.9x guest tmpfs", "mmap read –", "not measured"],
            Row(Section(MarkdownReport.Render(run), "## Goals"), "Stargate mmap ≥ 0.9x guest tmpfs"));
    }

    [Fact]
    public void Render_EndsWithTheChart()
    {
        Assert.EndsWith("\n![throughput](quick-20261121T1015Z.png)\n", Rendered, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_IsTheSameTextEveryTime()
    {
        Assert.Equal(Rendered, MarkdownReport.Render(SampleRuns.Good()));
        Assert.Equal(Rendered, MarkdownReport.Render(BenchRun.FromJson(SampleRuns.Good().ToJson())));
    }

    /// <summary>The text from the @heading line to the next heading.</summary>
    private static string Section(string markdown, string heading)
    {
        int start = markdown.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section {heading}");
        int end = markdown.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..end];
    }

    private static List<string> TableRows(string section) =>
        [.. section.Split('\n').Where(l => l.StartsWith('|'))];

    /// <summary>The cells of the row whose first cell is @first.</summary>
    private static string[] Row(string section, string first) =>
        TableRows(section).Select(Cells).Single(c => c[0] == first);

    private static string[] Cells(string row) =>
        [.. System.Text.RegularExpressions.Regex.Split(row.Trim('|'), @"(?<!\\)\|").Select(c => c.Trim())];
}
