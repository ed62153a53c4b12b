using Stargate.Guests.Zones;

namespace Stargate.Bench;

/// <summary>
/// One reading of Stargate's request counters for a guest: the module's (the area device's
/// stargatefs_requests: requests, polled, slept, woken and nanosecond totals) and the service's
/// for that guest (`stargate peers --json` cost). docs/requests.md "Polling" says what each counts.
/// </summary>
public sealed record RequestCounters(IReadOnlyDictionary<string, long> Module, StargateServer.RequestCost Host)
{
    private long M(string key) => Module.TryGetValue(key, out long v) ? v : throw new BenchException($"stargatefs_requests has no {key}");

    /// <summary>The steps of the requests made between @before and this reading, averaged per request.</summary>
    public RequestSteps Since(RequestCounters before, string fileSystem, double roundTripUs)
    {
        ArgumentNullException.ThrowIfNull(before);
        long requests = M("requests") - before.M("requests");
        long hostRequests = Host.Requests - before.Host.Requests;
        if (requests <= 0 || hostRequests <= 0)
        {
            throw new BenchException($"{fileSystem}: the round-trip run made no request (module {requests}, service {hostRequests})");
        }

        double Guest(string key) => (M(key) - before.M(key)) / 1000.0 / requests;
        double Service(long total, long earlier) => (total - earlier) / 1000.0 / hostRequests;
        double wait = Guest("wait_ns");
        double pickup = Service(Host.PickupNs, before.Host.PickupNs);
        double change = Service(Host.ChangeNs, before.Host.ChangeNs);
        double reply = Service(Host.ReplyNs, before.Host.ReplyNs);
        double wake = Guest("wake_ns");
        return new RequestSteps
        {
            FileSystem = fileSystem,
            Requests = requests,
            PolledShare = (double)(M("polled") - before.M("polled")) / requests,
            RoundTripUs = roundTripUs,
            EnqueueUs = Guest("enqueue_ns"),
            DoorbellUs = Guest("doorbell_ns"),
            WaitUs = wait,
            HostPickupUs = pickup,
            HostChangeUs = change,
            HostReplyUs = reply,
            GuestWakeUs = wake,
            TransitUs = Math.Max(0, wait - pickup - change - reply - wake),
        };
    }
}

/// <summary>
/// A request's round trip on Stargate broken into steps, microseconds per request, from the
/// counters around the round-trip workload's runs (docs/performance.md "The request round
/// trip"). Guest side: enqueue (tag, slot, doorbell value), the doorbell's MMIO write, the wait
/// for the reply; service side: pickup (its wake-up to the change), the change, the reply (done
/// and the ring); the guest's wake-up from vector 0 (averaged over every request, polled ones
/// counting 0); and transit, what neither side sees: the doorbell's way to the service and the
/// reply's way back (the wait less everything the service and the wake-up account for).
/// </summary>
public sealed record RequestSteps
{
    public required string FileSystem { get; init; }

    public required long Requests { get; init; }

    /// <summary>Of the requests, the share whose reply came while the guest polled.</summary>
    public required double PolledShare { get; init; }

    /// <summary>The workload's median fchmod, for comparison with the sum of the steps.</summary>
    public required double RoundTripUs { get; init; }

    public required double EnqueueUs { get; init; }

    public required double DoorbellUs { get; init; }

    public required double WaitUs { get; init; }

    public required double HostPickupUs { get; init; }

    public required double HostChangeUs { get; init; }

    public required double HostReplyUs { get; init; }

    public required double GuestWakeUs { get; init; }

    public required double TransitUs { get; init; }
}
