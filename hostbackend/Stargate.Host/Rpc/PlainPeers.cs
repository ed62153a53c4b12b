using System.Runtime.InteropServices;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Rpc;

/// <summary>
/// Guests without doorbells (docs/requests.md "Guests without doorbells"): an
/// ivshmem-plain guest has no server-given id, so it claims a FREE slot's area
/// (sgz_ring_header.claim) and keeps a heartbeat there. This class finds new
/// claims, makes them live peers and says when one has gone (heartbeat still for
/// SGZ_CLAIM_TIMEOUT_MS, or claim changed). Everything it reads is guest-written:
/// a hostile guest can at worst hold slots, which it could do with garbage claims
/// anyway. The caller (the server's loop) does the departure clean-up.
/// Not thread-safe: used from the server's loop thread only.
/// </summary>
internal sealed class PlainPeers(Zone zone)
{
    /// <summary>How often FREE slots are looked at for new claims (the loop wakes at least every 100 ms).</summary>
    public static readonly TimeSpan ScanInterval = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<int, Watched> _peers = [];
    private long _nextScan;

    public int Count => _peers.Count;

    public IEnumerable<int> Slots => _peers.Keys;

    public bool Contains(int slot) => _peers.ContainsKey(slot);

    /// <summary>
    /// A slot's area carries a guest's claim: not 0 and not the host's own mark. Only
    /// meaningful while the slot is FREE (a live doorbell guest's area is its own business).
    /// </summary>
    public bool IsClaimed(int slot) => RingArea.Fits(zone.Geometry) && IsGuestClaim(Volatile.Read(ref Header(slot).Claim));

    /// <summary>
    /// Every <see cref="ScanInterval"/>: FREE slots whose area carries a guest's claim
    /// become live peers (pid 0). The rest of the area (rings, open table) is zeroed
    /// first: the guest writes there only once it sees its slot LIVE, so nothing stale
    /// in a free slot's area is served as its request. Returns the slots that joined.
    /// </summary>
    public List<int> Join(long nowMs)
    {
        var joined = new List<int>();
        if (nowMs < _nextScan || !RingArea.Fits(zone.Geometry))
        {
            return joined;
        }

        _nextScan = nowMs + (long)ScanInterval.TotalMilliseconds;
        for (int slot = SgzAbi.HostPeerSlot + 1; slot < zone.Geometry.MaxPeers; slot++)
        {
            if (zone.Peers.IsLive(slot))
            {
                continue;
            }

            ulong claim = Volatile.Read(ref Header(slot).Claim);
            if (!IsGuestClaim(claim))
            {
                continue;
            }

            var area = RingArea.Of(zone.Geometry, slot);
            zone.Memory.Span(area.Offset + SgzAbi.RingRequests, zone.Geometry.RingBytes - SgzAbi.RingRequests).Clear();
            zone.Peers.Set(slot, live: true, pid: 0);
            Watch(slot, claim, nowMs);
            joined.Add(slot);
        }

        return joined;
    }

    /// <summary>A live slot a previous service served as a plain guest (pid 0, a guest's claim): watched from now on.</summary>
    public bool Adopt(int slot, long nowMs)
    {
        ulong claim = Volatile.Read(ref Header(slot).Claim);
        if (!IsGuestClaim(claim))
        {
            return false;
        }

        Watch(slot, claim, nowMs);
        return true;
    }

    /// <summary>The peers that left: claim no longer the one they joined with (0 = an orderly release), or heartbeat still too long.</summary>
    public List<(int Slot, string Why)> Gone(long nowMs)
    {
        var gone = new List<(int, string)>();
        foreach (var (slot, watched) in _peers.ToList())
        {
            ref var header = ref Header(slot);
            ulong claim = Volatile.Read(ref header.Claim);
            ulong beat = Volatile.Read(ref header.Heartbeat);
            string? why = claim == 0 ? "released its claim"
                : claim != watched.Claim ? "lost its claim (another value was stored there)"
                : beat == watched.Heartbeat && nowMs - watched.SinceMs >= SgzAbi.ClaimTimeoutMs ? $"stopped its heartbeat ({SgzAbi.ClaimTimeoutMs} ms)"
                : null;
            if (why is not null)
            {
                _peers.Remove(slot);
                gone.Add((slot, why));
            }
            else if (beat != watched.Heartbeat)
            {
                _peers[slot] = watched with { Heartbeat = beat, SinceMs = nowMs };
            }
        }

        return gone;
    }

    /// <summary>
    /// Marks a FREE slot's area as the host's before the slot goes to a doorbell QEMU:
    /// cmpxchg(0 -> SGZ_CLAIM_HOST), so a plain guest's claim and the QEMU never meet.
    /// A mark left by a service that died before the QEMU joined is taken over. Then
    /// everything but the claim is zeroed (a stale request must not be served as the
    /// newcomer's). False: a guest claimed it.
    /// </summary>
    public bool ReserveForDoorbell(int slot)
    {
        if (!RingArea.Fits(zone.Geometry))
        {
            zone.Peers.ClearArea(slot);
            return true;
        }

        ref ulong claim = ref Header(slot).Claim;
        ulong was = Interlocked.CompareExchange(ref claim, SgzAbi.ClaimHost, 0);
        if (was != 0 && was != SgzAbi.ClaimHost)
        {
            return false;
        }

        var area = zone.Memory.Span(RingArea.Of(zone.Geometry, slot).Offset, zone.Geometry.RingBytes);
        int claimAt = (int)Marshal.OffsetOf<SgzRingHeader>(nameof(SgzRingHeader.Claim));
        area[..claimAt].Clear();
        area[(claimAt + sizeof(ulong))..].Clear();
        return true;
    }

    /// <summary>A doorbell QEMU that never joined: its slot's mark goes, so guests may claim the slot.</summary>
    public void Unreserve(int slot)
    {
        if (RingArea.Fits(zone.Geometry))
        {
            Interlocked.CompareExchange(ref Header(slot).Claim, 0, SgzAbi.ClaimHost);
        }
    }

    /// <summary>At start: FREE slots still marked by a service that died between the mark and the QEMU's join are unmarked.</summary>
    public int DropStaleMarks()
    {
        if (!RingArea.Fits(zone.Geometry))
        {
            return 0;
        }

        int dropped = 0;
        for (int slot = SgzAbi.HostPeerSlot + 1; slot < zone.Geometry.MaxPeers; slot++)
        {
            if (!zone.Peers.IsLive(slot)
                && Interlocked.CompareExchange(ref Header(slot).Claim, 0, SgzAbi.ClaimHost) == SgzAbi.ClaimHost)
            {
                dropped++;
            }
        }

        return dropped;
    }

    private static bool IsGuestClaim(ulong claim) => claim is not 0 and not SgzAbi.ClaimHost;

    private void Watch(int slot, ulong claim, long nowMs) =>
        _peers[slot] = new Watched(claim, Volatile.Read(ref Header(slot).Heartbeat), nowMs);

    private ref SgzRingHeader Header(int slot) => ref zone.Memory.Ref<SgzRingHeader>(RingArea.Of(zone.Geometry, slot).Offset);

    /// <summary>The claim a peer joined with, and its heartbeat as last seen and since when.</summary>
    private readonly record struct Watched(ulong Claim, ulong Heartbeat, long SinceMs);
}
