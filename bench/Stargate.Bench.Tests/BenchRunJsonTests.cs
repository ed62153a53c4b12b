using System.Text.Json;

namespace Stargate.Bench.Tests;

public class BenchRunJsonTests
{
    [Fact]
    public void FromJson_OfToJson_KeepsEveryField()
    {
        var run = SampleRuns.Good();
        var back = BenchRun.FromJson(run.ToJson());

        Assert.Equal(run.ToJson(), back.ToJson());
        Assert.Equal(run with { FileSystems = [], Results = [] }, back with { FileSystems = [], Results = [] });
        Assert.Equal(run.Started.Offset, back.Started.Offset);
        Assert.Equal(run.FileSystems, back.FileSystems);
        Assert.Equal(run.Results.Count, back.Results.Count);
        for (int i = 0; i < run.Results.Count; i++)
        {
            Assert.Equal(run.Results[i] with { Runs = [] }, back.Results[i] with { Runs = [] });
            Assert.Equal(run.Results[i].Runs, back.Results[i].Runs);
        }
    }

    [Fact]
    public void FromJson_OfToJson_KeepsEveryDigitOfAFigure()
    {
        var good = SampleRuns.Good();
        var run = SampleRuns.WithResult(good, "nfs", Workload.Latency, _ => Measurement.Of("nfs", Workload.Latency, [0.1 + 0.2, 1e-300, 123456789.123456789]));
        var back = BenchRun.FromJson(run.ToJson()).Results.Single(m => m.FileSystem == "nfs" && m.Workload == "latency");
        Assert.Equal([0.1 + 0.2, 1e-300, 123456789.123456789], back.Runs);
        Assert.Equal("µs", back.Unit);
    }

    [Fact]
    public void ToJson_WritesCamelCaseAndLeavesOutWhatIsNull()
    {
        string json = SampleRuns.Good().ToJson();
        Assert.Contains("\"durationSeconds\": 754.4", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\": null", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"median\": null", json, StringComparison.Ordinal);
    }

    [Fact]
    public void FromJson_OfNull_SaysSo()
    {
        var e = Assert.Throws<JsonException>(() => BenchRun.FromJson("null"));
        Assert.Contains("null", e.Message, StringComparison.Ordinal);
    }
}
