using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Rpc;

/// <summary>
/// Where the records of peer slot p's area lie (docs/requests.md "A peer's area"):
/// rings.offset + p * ring_bytes, then the ring header, the request ring, the
/// reply ring and the open table at the header's fixed offsets. The geometry
/// checks at open keep every area inside the zone; <see cref="Fits"/> says
/// whether a zone's areas are big enough to hold this layout at all.
/// </summary>
internal readonly record struct RingArea(ulong Offset)
{
    public static bool Fits(ZoneGeometry geometry) =>
        geometry.RingBytes >= SgzAbi.RingBytes && geometry.Rings.Size / geometry.RingBytes >= geometry.MaxPeers;

    public static RingArea Of(ZoneGeometry geometry, int slot) => new(geometry.RingAreaOffset(slot));

    public ulong Request(int tag) => Offset + SgzAbi.RingRequests + ((ulong)tag * SgzAbi.RequestSize);

    public ulong Reply(int tag) => Offset + SgzAbi.RingReplies + ((ulong)tag * SgzAbi.ReplySize);

    public ulong Open(int entry) => Offset + SgzAbi.RingOpens + ((ulong)entry * SgzAbi.OpenSize);
}
