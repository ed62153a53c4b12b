using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Who asks for a change: the uid and gid that permission checks use (a guest's word for
/// its fsuid and fsgid; uid 0 passes every check) and the peer slot whose allocation
/// partition pays for new pages.
/// </summary>
public readonly record struct Caller(uint Uid, uint Gid, int Slot)
{
    public static Caller Host => new(0, 0, SgzAbi.HostPeerSlot);
}
