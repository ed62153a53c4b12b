using Stargate.Bench.Report;

namespace Stargate.Bench.Tests;

/// <summary>The chart needs gnuplot with pngcairo (apt-get install gnuplot-nox); without it the tests that draw are skipped.</summary>
public sealed class ChartReportTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("stargate-bench-tests-");

    public void Dispose() => _folder.Delete(recursive: true);

    [SkippableFact]
    public void Render_WritesAPngOfAReasonableSize()
    {
        SkipWithoutGnuplot();
        string png = Path.Combine(_folder.FullName, "run.png");
        ChartReport.Render(SampleRuns.Good(), png);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.InRange(bytes.Length, 10_000, 2_000_000);
    }

    [SkippableFact]
    public void Render_ReplacesAnOlderChart()
    {
        SkipWithoutGnuplot();
        string png = Path.Combine(_folder.FullName, "run.png");
        File.WriteAllText(png, "an older chart");
        ChartReport.Render(SampleRuns.Good(), png);
        Assert.Equal(PngSignature, File.ReadAllBytes(png)[..8]);
    }

    [SkippableFact]
    public void Render_OfARunWithoutAnyThroughputFigure_StillDrawsAChart()
    {
        SkipWithoutGnuplot();
        var good = SampleRuns.Good();
        var run = good with { Results = [.. good.Results.Where(m => !Workload.Throughput.Any(w => w.Id == m.Workload))] };
        string png = Path.Combine(_folder.FullName, "empty.png");
        ChartReport.Render(run, png);
        Assert.Equal(PngSignature, File.ReadAllBytes(png)[..8]);
    }

    [SkippableFact]
    public void Render_LeavesNoTemporaryFolderBehind()
    {
        SkipWithoutGnuplot();
        var before = ChartFolders();
        ChartReport.Render(SampleRuns.Good(), Path.Combine(_folder.FullName, "run.png"));
        Assert.Empty(ChartFolders().Except(before));
    }

    [Fact]
    public void Render_WithoutGnuplot_SaysHowToInstallItAndLeavesNoChart()
    {
        string png = Path.Combine(_folder.FullName, "run.png");
        string? path = Environment.GetEnvironmentVariable("PATH");
        var before = ChartFolders();
        Environment.SetEnvironmentVariable("PATH", _folder.FullName);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => ChartReport.Render(SampleRuns.Good(), png));
            Assert.Contains("gnuplot", e.Message, StringComparison.Ordinal);
            Assert.Contains("apt-get install gnuplot-nox", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }

        Assert.False(File.Exists(png));
        Assert.Empty(ChartFolders().Except(before));
    }

    internal static void SkipWithoutGnuplot() =>
        Skip.IfNot(
            (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "gnuplot"))),
            "gnuplot is not installed (apt-get install gnuplot-nox)");

    private static string[] ChartFolders() =>
        Directory.GetDirectories(Path.GetTempPath(), "stargate-bench-chart-*")
            .Where(d => !Path.GetFileName(d).StartsWith("stargate-bench-tests-", StringComparison.Ordinal))
            .ToArray();
}
