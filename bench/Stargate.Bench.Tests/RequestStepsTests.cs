using Stargate.Bench.Report;
using Stargate.Guests.Zones;

namespace Stargate.Bench.Tests;

/// <summary>The round trip's steps from two readings of the counters, and Table 6 of the report.</summary>
public class RequestStepsTests
{
    private static RequestCounters Reading(long requests, long polled, long waitNs, long wakeNs, long pickupNs, long changeNs, long replyNs) =>
        new(new Dictionary<string, long>
        {
            ["requests"] = requests, ["polled"] = polled, ["slept"] = requests - polled, ["woken"] = requests - polled,
            ["enqueue_ns"] = requests * 2_000, ["doorbell_ns"] = requests * 5_000, ["wait_ns"] = waitNs, ["wake_ns"] = wakeNs,
        }, new StargateServer.RequestCost(requests, pickupNs, changeNs, replyNs));

    [Fact]
    public void Since_AveragesEachStepPerRequest_AndTransitIsTheWaitLeft()
    {
        var before = Reading(10, 2, 1_000_000, 50_000, 100_000, 200_000, 30_000);
        var after = Reading(110, 52, 11_000_000, 1_050_000, 1_100_000, 4_200_000, 530_000);
        var steps = after.Since(before, "stargate", 123.0);

        Assert.Equal(100, steps.Requests);
        Assert.Equal(0.5, steps.PolledShare, 6);
        Assert.Equal(2.0, steps.EnqueueUs, 6);
        Assert.Equal(5.0, steps.DoorbellUs, 6);
        Assert.Equal(100.0, steps.WaitUs, 6);
        Assert.Equal(10.0, steps.HostPickupUs, 6);
        Assert.Equal(40.0, steps.HostChangeUs, 6);
        Assert.Equal(5.0, steps.HostReplyUs, 6);
        Assert.Equal(10.0, steps.GuestWakeUs, 6);
        Assert.Equal(35.0, steps.TransitUs, 6);
        Assert.Equal(123.0, steps.RoundTripUs);
    }

    [Fact]
    public void Since_WithoutARequestBetween_IsAnError()
    {
        var reading = Reading(10, 2, 1_000_000, 50_000, 100_000, 200_000, 30_000);
        var e = Assert.Throws<BenchException>(() => reading.Since(reading, "stargate", 1.0));
        Assert.Contains("made no request", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_ShowsTable6_OnlyWhenTheRunHasSteps()
    {
        var run = SampleRuns.Good();
        Assert.DoesNotContain("The request round trip", MarkdownReport.Render(run), StringComparison.Ordinal);

        var steps = Reading(110, 52, 11_000_000, 1_050_000, 1_100_000, 4_200_000, 530_000).Since(Reading(10, 2, 1_000_000, 50_000, 100_000, 200_000, 30_000), "stargate", 123.0);
        string md = MarkdownReport.Render(run with { RequestSteps = [steps] });
        Assert.Contains("## The request round trip", md, StringComparison.Ordinal);
        Assert.Contains("| guest: wait for the reply | 100 |", md, StringComparison.Ordinal);
        Assert.Contains("| replies found by polling | 50% |", md, StringComparison.Ordinal);
        Assert.Equal(steps, BenchRun.FromJson((run with { RequestSteps = [steps] }).ToJson()).RequestSteps!.Single());
    }
}
