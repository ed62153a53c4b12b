using Stargate.Interop.Abi;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// Every limit of the service (the ivshmem server, the control socket, the request
/// pump), in one place, checked before anything is allocated. Guest ids are 1..MaxPeers
/// (the zone's peer slots; slot and id 0 are the host service itself).
/// </summary>
public static class ServerLimits
{
    /// <summary>The protocol version QEMU 7.2 expects first (IVSHMEM_PROTOCOL_VERSION).</summary>
    public const long ProtocolVersion = 0;

    /// <summary>The id the host service takes as a peer, its peer-table slot: guests ring it with (0 &lt;&lt; 16) | vector.</summary>
    public const int HostId = SgzAbi.HostPeerSlot;

    /// <summary>QEMU 7.2 reads only the low 8 bits of a doorbell's vector; we allow far fewer.</summary>
    public const int MaxVectors = 64;

    public const int DefaultVectors = 4;

    /// <summary>ivshmem ids are 16 bits; the zone's peer table bounds them further.</summary>
    public const int MaxPeerIds = 65535;

    /// <summary>A control request's largest size, in bytes: one line, a forwarded command line with many long paths.</summary>
    public const int MaxControlRequest = 64 << 10;

    /// <summary>Control connections open at once, not counting mapping sessions; more are refused.</summary>
    public const int MaxControlConnections = 16;

    /// <summary>Mapping sessions (host processes mapping files through serve) at once; more are refused with the reason.</summary>
    public const int MaxMappingSessions = 64;

    /// <summary>A control client has this long to send its request line, then it is closed.</summary>
    public static readonly TimeSpan ControlDeadline = TimeSpan.FromSeconds(5);

    /// <summary>How often requests are looked for while an adopted guest (no doorbells) is live.</summary>
    public static readonly TimeSpan AdoptedPoll = TimeSpan.FromMilliseconds(2);

    /// <summary>How often requests are looked for otherwise: only a lost doorbell needs it.</summary>
    public static readonly TimeSpan SafetyPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>`stargate serve --poll-us`'s default: the loop's look at the rings after a reply (ServiceOptions.PollWindow).</summary>
    public static readonly TimeSpan DefaultPollWindow = TimeSpan.FromMicroseconds(200);

    /// <summary>The longest --poll-us: a loop that polls longer only burns a core.</summary>
    public const int MaxPollUs = 10_000;

    /// <summary>How often waiting host locks ask the lock table again (guests' releases come without a host-side event).</summary>
    public static readonly TimeSpan HostLockRetry = TimeSpan.FromMilliseconds(10);

    /// <summary>How often an adopted guest's QEMU is checked for life.</summary>
    public static readonly TimeSpan AdoptedPidCheck = TimeSpan.FromMilliseconds(500);

    public static void CheckVectors(int vectors)
    {
        if (vectors < 1 || vectors > MaxVectors)
        {
            throw new ArgumentOutOfRangeException(nameof(vectors), vectors, $"vectors must be 1..{MaxVectors}");
        }
    }
}
