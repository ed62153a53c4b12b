using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Rpc;

/// <summary>
/// Where peer slot p's requests and replies lie (docs/requests.md "A peer's rings"): the
/// request ring and open table in the guest's private area (<see cref="GuestAreas"/>, at
/// SGZ_AREA_RING, guest-written), the reply ring in slot p's area of the rings region in Z
/// (zone offsets, written by the host only, in the journalled change of the request).
/// </summary>
internal readonly record struct RingArea(AreaMemory Guest, ulong Replies)
{
    /// <summary>Slot <paramref name="slot"/>'s rings; null when the guest has no private area (its file is gone).</summary>
    public static RingArea? Of(Zone zone, int slot) =>
        zone.Areas.Find(slot) is { } guest ? new RingArea(guest, zone.Geometry.RingAreaOffset(slot)) : null;

    /// <summary>Request <paramref name="tag"/>'s offset in the guest's area.</summary>
    public static ulong Request(int tag) => AreaMemory.Ring + SgzAbi.RingRequests + ((ulong)tag * SgzAbi.RequestSize);

    /// <summary>Tag <paramref name="tag"/>'s payload buffer's offset in the guest's area (SGZ_REQ_PAYLOAD).</summary>
    public static ulong Payload(int tag) => SgzAbi.AreaPayload + ((ulong)tag * SgzAbi.PayloadSize);

    /// <summary>Reply <paramref name="tag"/>'s zone offset.</summary>
    public ulong Reply(int tag) => Replies + SgzAbi.RingReplies + ((ulong)tag * SgzAbi.ReplySize);
}
