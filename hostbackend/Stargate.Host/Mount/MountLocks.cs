using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Mount;

/// <summary>
/// How a host mount takes flock and fcntl locks: as records of the host's slot in the zone's
/// lock table, the one the guests' locks are in, so a lock on the mount and a guest's lock
/// exclude each other. Owners are the kernel's lock owners, with the top bit set so they
/// never meet the owner numbers of `stargate lock` clients.
/// </summary>
public abstract class MountLocks
{
    private const ulong MountOwner = 1UL << 63;

    /// <summary>A mount in the zone's writer itself (no service): the table directly; no guest can be waiting.</summary>
    public static MountLocks Direct(Zone zone) => new DirectLocks(zone);

    /// <summary>A mount inside `stargate serve`: through its request server, which wakes the guests waiting for a file.</summary>
    internal static MountLocks Through(Zone zone, RequestServer requests) => new ServiceLocks(zone, requests);

    /// <summary>Grants, converts or releases (Type SGZ_LOCK_UNLOCK); null when done, else the lock in the way.</summary>
    public LockConflict? Set(NodeRef file, LockRange range, ulong owner, uint pid) => SetLock(file, range, MountOwner | owner, pid);

    /// <summary>The lock that would refuse <paramref name="range"/> (F_GETLK), or null.</summary>
    public LockConflict? Test(NodeRef file, LockRange range, ulong owner, uint pid)
    {
        var zone = Zone;
        using (zone.Exclusive())
        {
            return zone.Locks.TestLock(new LockHolder(SgzAbi.HostPeerSlot, MountOwner | owner, pid), file, range);
        }
    }

    /// <summary>Drops every lock of the given kernel owners (the mount goes).</summary>
    public void DropAll(IEnumerable<ulong> owners)
    {
        foreach (ulong owner in owners)
        {
            Drop(MountOwner | owner);
        }
    }

    protected abstract Zone Zone { get; }

    protected abstract LockConflict? SetLock(NodeRef file, LockRange range, ulong owner, uint pid);

    protected abstract void Drop(ulong owner);

    private sealed class DirectLocks(Zone zone) : MountLocks
    {
        protected override Zone Zone => zone;

        protected override LockConflict? SetLock(NodeRef file, LockRange range, ulong owner, uint pid)
        {
            using (zone.Exclusive())
            {
                return zone.Locks.SetLock(new LockHolder(SgzAbi.HostPeerSlot, owner, pid), file, range);
            }
        }

        protected override void Drop(ulong owner)
        {
            using (zone.Exclusive())
            {
                zone.Locks.DropLocks(SgzAbi.HostPeerSlot, owner);
            }
        }
    }

    private sealed class ServiceLocks(Zone zone, RequestServer requests) : MountLocks
    {
        protected override Zone Zone => zone;

        protected override LockConflict? SetLock(NodeRef file, LockRange range, ulong owner, uint pid) => requests.HostLock(file, range, owner, pid);

        protected override void Drop(ulong owner) => requests.HostUnlockAll(owner);
    }
}
