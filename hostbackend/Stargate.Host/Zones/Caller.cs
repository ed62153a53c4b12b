using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Who asks for a change: the uid, gid and supplementary groups that permission checks use
/// (a guest's word for its fsuid, fsgid and groups, after its socket's export policy; uid 0
/// passes every check) and the peer slot whose allocation partition pays for new pages.
/// </summary>
public readonly record struct Caller(uint Uid, uint Gid, int Slot)
{
    /// <summary>Supplementary gids (a guest sends at most SGZ_REQ_GROUPS_MAX, and only with setattr and allocate).</summary>
    public uint[] Groups { get => field ?? []; init; }

    public static Caller Host => new(0, 0, SgzAbi.HostPeerSlot);

    /// <summary>The caller's gid or one of its supplementary groups is <paramref name="gid"/> (the kernel's in_group_p).</summary>
    public bool InGroup(uint gid) => gid == Gid || Array.IndexOf(Groups, gid) >= 0;
}
