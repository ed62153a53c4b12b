using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Service;

/// <summary>
/// Guests a previous service left live whose QEMU still runs (docs/requests.md "When a peer
/// dies, and when the service restarts"): their doorbells went with that service, so they are
/// served by polling, and their QEMU process is watched until it exits. Owns which slots are
/// adopted and when their processes are next looked at. Not thread-safe: the loop thread's.
/// </summary>
internal sealed class AdoptedGuests(Zone zone, ILogger log)
{
    private readonly SortedDictionary<int, Adopted> _adopted = [];
    private long _nextPidCheck;

    public int Count => _adopted.Count;

    public bool Contains(int slot) => _adopted.ContainsKey(slot);

    /// <summary>The adopted guests, as `stargate peers` lists them.</summary>
    public IEnumerable<PeerStatus> Statuses =>
        _adopted.Select(a => new PeerStatus(a.Key, "guest", a.Value.Pid, a.Value.Since, 0, []));

    /// <summary>
    /// At start: each guest slot a previous service left live is adopted if its QEMU still
    /// runs (its private area, ZONE.area.SLOT, is served from now on); else it is cleaned up as
    /// a departure by <paramref name="requests"/>. The pid is what the zone held when this
    /// service opened it (Z, which only the host writes).
    /// </summary>
    public void AdoptOrClean(RequestServer requests)
    {
        foreach (int slot in zone.Peers.LiveGuests())
        {
            ulong pid = zone.Peers.Pid(slot);
            if (IsAlive(pid))
            {
                _adopted[slot] = new Adopted((int)pid, PeerSince(zone, slot));
                ServiceLog.Adopted(log, slot, (int)pid);
            }
            else
            {
                requests.PeerGone(slot);
                ServiceLog.ClearedStale(log, slot, pid);
            }
        }

        _nextPidCheck = Environment.TickCount64 + (long)ServerLimits.AdoptedPidCheck.TotalMilliseconds;
    }

    /// <summary>Every <see cref="ServerLimits.AdoptedPidCheck"/>: the adopted guests whose QEMU has exited, no longer adopted; the caller clears them.</summary>
    public List<int> Gone(long nowMs)
    {
        var gone = new List<int>();
        if (_adopted.Count == 0 || nowMs < _nextPidCheck)
        {
            return gone;
        }

        _nextPidCheck = nowMs + (long)ServerLimits.AdoptedPidCheck.TotalMilliseconds;
        foreach (var (slot, peer) in _adopted.Where(a => !IsAlive((ulong)a.Value.Pid)).ToList())
        {
            _adopted.Remove(slot);
            ServiceLog.AdoptedGone(log, slot, peer.Pid);
            gone.Add(slot);
        }

        return gone;
    }

    /// <summary>When a slot's peer joined, as this process knows it (set here, or found in the zone at open).</summary>
    public static DateTimeOffset PeerSince(Zone zone, int slot) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(zone.Peers.SinceNs(slot) / 1_000_000, (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    /// <summary>The process exists (kill 0 succeeds, or it is another user's: EPERM, and /proc has it).</summary>
    private static bool IsAlive(ulong pid) =>
        pid is > 0 and <= int.MaxValue
        && (Sys.Expect(Libc.Kill((int)pid, 0), "kill", null, Errno.ESRCH, Errno.EPERM) == 0 || Directory.Exists($"/proc/{pid}"));

    private readonly record struct Adopted(int Pid, DateTimeOffset Since);
}
