using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;

namespace Stargate.Host.Service;

/// <summary>
/// Drives the request server (docs/requests.md) from the service's loop: it starts it once
/// the guests a previous service left are sorted out, serves every pending request after each
/// wake-up, and says how long the loop may sleep: briefly while a guest without doorbells
/// (adopted or plain) is live, since its requests are found only by looking; otherwise a slow
/// safety poll covers a doorbell that was lost (eventfds coalesce, MSI-X may be off) and the
/// scan for plain guests' new claims.
/// </summary>
internal sealed class RequestPump
{
    /// <param name="ringGuest">Rings a guest's vector 0 when its reply is published or a lock it waits for goes.</param>
    /// <param name="policyOf">The export policy of a guest's slot (RequestServer).</param>
    public RequestPump(Zone zone, Action<int> ringGuest, ILogger log, Func<int, ExportPolicy> policyOf)
    {
        Requests = new RequestServer(zone, ringGuest, log, policyOf);
    }

    public RequestServer Requests { get; }

    /// <summary>Publishes what a dead service committed, wakes the guests, frees orphans (RequestServer.Start).</summary>
    public void Start() => Requests.Start();

    /// <summary>Serves every pending request now; @wokeAt is when the loop woke up (Stopwatch ticks). Returns how many were answered.</summary>
    public int Turn(long wokeAt) => Requests.ProcessPending(wokeAt);

    /// <summary>How long the loop may wait before looking at the rings again.</summary>
    public static TimeSpan Interval(bool guestsWithoutDoorbells) =>
        guestsWithoutDoorbells ? ServerLimits.AdoptedPoll : ServerLimits.SafetyPoll;
}
