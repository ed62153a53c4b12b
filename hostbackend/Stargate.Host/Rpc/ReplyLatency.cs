using System.Diagnostics;

namespace Stargate.Host.Rpc;

/// <summary>
/// The service's side of a guest's request latency: per peer slot, the worst time from the loop
/// first seeing a request pending (its seq on the ring, not yet done) to the loop publishing its
/// reply. Time a request waited before the loop looked (the guest's doorbell, the loop's wake-up)
/// is not in it; time it spent put aside for a guest's hold is. Shown by `stargate peers`.
/// Not thread-safe: called on the loop under the zone's lock, read by the control socket on the
/// same loop.
/// </summary>
public sealed class ReplyLatency
{
    private readonly Dictionary<(int Slot, int Tag), (ulong Seq, long Since)> _seen = [];
    private readonly Dictionary<int, long> _worst = [];

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

    /// <summary>A peer left: its slot starts again from nothing.</summary>
    public void Forget(int slot)
    {
        _worst.Remove(slot);
        for (int tag = 0; tag < Interop.Abi.SgzAbi.RingSlots; tag++)
        {
            _seen.Remove((slot, tag));
        }
    }

    /// <summary>Every slot's worst starts again from nothing (`stargate peers --reset-worst`); requests pending now still count when answered.</summary>
    public void ResetWorst() => _worst.Clear();

    /// <summary>The worst seen-to-reply time of @slot's requests since it joined, in microseconds; null if none was answered.</summary>
    public long? WorstMicroseconds(int slot) =>
        _worst.TryGetValue(slot, out long ticks) ? (long)Stopwatch.GetElapsedTime(0, ticks).TotalMicroseconds : null;
}
