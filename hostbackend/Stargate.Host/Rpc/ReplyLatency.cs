using System.Diagnostics;

namespace Stargate.Host.Rpc;

/// <summary>
/// The service's side of a guest's request latency: per peer slot, the worst time from the loop
/// first seeing a request pending (its seq on the ring, not yet done) to the loop publishing its
/// reply. Time a request waited before the loop looked (the guest's doorbell, the loop's wake-up)
/// is not in it; time it spent put aside for a guest's hold is. Shown by `stargate peers`. Also
/// per slot, the total time of each step of its answered requests (<see cref="RequestCost"/>).
/// Not thread-safe: called on the loop under the zone's lock, read by the control socket on the
/// same loop.
/// </summary>
public sealed class ReplyLatency
{
    private readonly Dictionary<(int Slot, int Tag), (ulong Seq, long Since)> _seen = [];
    private readonly Dictionary<int, long> _worst = [];
    private readonly Dictionary<int, RequestCost> _cost = [];

    /// <summary>The loop saw request @seq pending on (@slot, @tag); only the first sighting of a seq counts.</summary>
    public void Seen(int slot, int tag, ulong seq)
    {
        if (!_seen.TryGetValue((slot, tag), out var seen) || seen.Seq != seq)
        {
            _seen[(slot, tag)] = (seq, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>The reply to @seq on (@slot, @tag) is published: its time since first seen counts toward the slot's worst.</summary>
    public void Replied(int slot, int tag, ulong seq)
    {
        if (!_seen.Remove((slot, tag), out var seen) || seen.Seq != seq)
        {
            return; // published without being seen pending (a dead service's committed reply)
        }

        long ticks = Stopwatch.GetTimestamp() - seen.Since;
        if (!_worst.TryGetValue(slot, out long worst) || ticks > worst)
        {
            _worst[slot] = ticks;
        }
    }

    /// <summary>
    /// A request of @slot was answered: the loop woke up at @woke, its change started at
    /// @started and ended at @changed, and its reply was published (and the guest rung, if it
    /// was) by @replied (Stopwatch ticks).
    /// </summary>
    public void Served(int slot, long woke, long started, long changed, long replied)
    {
        _cost.TryGetValue(slot, out var cost);
        _cost[slot] = new RequestCost(
            (cost?.Requests ?? 0) + 1,
            (cost?.PickupNs ?? 0) + Nanoseconds(Math.Max(0, started - woke)),
            (cost?.ChangeNs ?? 0) + Nanoseconds(changed - started),
            (cost?.ReplyNs ?? 0) + Nanoseconds(replied - changed));
    }

    /// <summary>The totals of @slot's answered requests since it joined; null before its first.</summary>
    public RequestCost? CostOf(int slot) => _cost.GetValueOrDefault(slot);

    /// <summary>A peer left: its slot starts again from nothing.</summary>
    public void Forget(int slot)
    {
        _worst.Remove(slot);
        _cost.Remove(slot);
        for (int tag = 0; tag < Interop.Abi.SgzAbi.RingSlots; tag++)
        {
            _seen.Remove((slot, tag));
        }
    }

    /// <summary>Every slot's worst starts again from nothing (`stargate peers --reset-worst`); requests pending now still count when answered.</summary>
    public void ResetWorst() => _worst.Clear();

    private static long Nanoseconds(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));

    /// <summary>The worst seen-to-reply time of @slot's requests since it joined, in microseconds; null if none was answered.</summary>
    public long? WorstMicroseconds(int slot) =>
        _worst.TryGetValue(slot, out long ticks) ? (long)Stopwatch.GetElapsedTime(0, ticks).TotalMicroseconds : null;
}

/// <summary>
/// The service's steps of a guest's answered requests, totals in nanoseconds: pickup, from the
/// loop waking up (a doorbell, or its poll of the rings finding a request) to the request's
/// change starting (other requests served first count in it); change, checking and applying it
/// with its reply in one journalled change; reply, publishing done and ringing the guest.
/// </summary>
public sealed record RequestCost(long Requests, long PickupNs, long ChangeNs, long ReplyNs);
