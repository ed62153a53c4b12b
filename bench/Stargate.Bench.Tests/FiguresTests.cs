using Stargate.Bench.Report;

namespace Stargate.Bench.Tests;

public class FiguresTests
{
    [Theory]
    [InlineData(1000, "1000")]
    [InlineData(1234.5, "1230")]
    [InlineData(123456, "123000")]
    [InlineData(999.7, "1000")]
    [InlineData(9.996, "10.0")]
    [InlineData(12.34, "12.3")]
    [InlineData(1, "1.00")]
    [InlineData(0.5, "0.500")]
    [InlineData(0.012345, "0.0123")]
    [InlineData(0.0125, "0.0125")]
    [InlineData(2.345, "2.35")]
    [InlineData(0, "0")]
    public void ThreeDigits_KeepsThreeSignificantDigits(double value, string written)
    {
        Assert.Equal(written, Figures.ThreeDigits(value));
    }

    [Fact]
    public void Ratio_OfAWorkloadWhereLowerIsBetter_IsTheBaselineOverTheFileSystem()
    {
        var run = SampleRuns.Good();
        Assert.Equal(20.0, Figures.Ratio(run, "stargate", SampleRuns.NineP, Workload.Latency)!.Value, 9);
        Assert.Equal(20.0, Figures.Ratio(run, "stargate", SampleRuns.NineP, Workload.SeqRead)!.Value, 9);
    }

    [Fact]
    public void Ratio_WithAFailedOrMissingFigure_IsNull()
    {
        var run = SampleRuns.Good();
        Assert.Null(Figures.Ratio(run, "stargate", SampleRuns.NineP, Workload.RandWrite));
        Assert.Null(Figures.Ratio(run, "stargate", "tmpfs", Workload.Transfer));
        Assert.Null(Figures.Ratio(run, "stargate", "samba", Workload.SeqRead));
    }
}
