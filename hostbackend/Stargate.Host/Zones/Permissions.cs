using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// POSIX permission checks with the caller's word for uid, gid and supplementary groups
/// (docs/requests.md, "What the host checks"): owner bits for the owner, group bits for a
/// member of the file's group, other bits for the rest; uid 0 passes every check. Pure
/// functions of the caller and the inodes given.
/// </summary>
internal static class Permissions
{
    public const uint MayRead = 4;
    public const uint MayWrite = 2;
    public const uint MayExec = 1;
    public const uint SetUid = 0x800;   // 04000
    public const uint SetGid = 0x400;   // 02000
    public const uint Sticky = 0x200;   // 01000
    public const uint SetIds = SetUid | SetGid;
    public const uint PermissionBits = SgzAbi.SIallugo;

    /// <summary>
    /// The bits of <paramref name="mode"/> that a write, truncate or chown by a caller without
    /// CAP_FSETID drops, as Linux's file_remove_privs and setattr_should_drop_suidgid do:
    /// set-user-id, and set-group-id when group execute is set (without it, set-group-id means
    /// mandatory locking and stays).
    /// </summary>
    public static uint KilledPrivileges(uint mode) => SetUid | ((mode & 0x8) != 0 ? SetGid : 0);

    /// <summary>Whether <paramref name="mode"/> has a bit <see cref="KilledPrivileges"/> would drop.</summary>
    public static bool HasPrivileges(uint mode) => (mode & KilledPrivileges(mode)) != 0;

    public static bool May(Caller c, in SgzInode inode, uint want)
    {
        if (c.Uid == 0)
        {
            return true;
        }

        uint bits = c.Uid == inode.Uid ? (inode.Mode >> 6) & 7 : c.InGroup(inode.Gid) ? (inode.Mode >> 3) & 7 : inode.Mode & 7;
        return (bits & want) == want;
    }

    public static void RequireMay(Caller c, ulong ino, in SgzInode inode, uint want, string what)
    {
        if (!May(c, inode, want))
        {
            string wanted = want == (MayWrite | MayExec) ? "write and search" : want == MayWrite ? "write" : want == MayRead ? "read" : "search";
            throw new ZoneException(ZoneError.AccessDenied, $"{what}: uid {c.Uid} gid {c.Gid} lacks {wanted} permission on inode {ino} (mode 0{Convert.ToString(inode.Mode & PermissionBits, 8)}, owner {inode.Uid}:{inode.Gid})");
        }
    }

    /// <summary>Removing a name: write and search permission on the directory, and the sticky rule.</summary>
    public static void RequireMayRemove(Caller c, ulong dirIno, in SgzInode dir, in SgzInode victim, string what)
    {
        RequireMay(c, dirIno, dir, MayWrite | MayExec, what);
        RequireStickyOwner(c, dir, victim, what);
    }

    public static bool IsOwner(Caller c, in SgzInode inode) => c.Uid == 0 || c.Uid == inode.Uid;

    /// <summary>In a sticky directory only the owner of the entry's inode or of the directory may remove or move it.</summary>
    public static void RequireStickyOwner(Caller c, in SgzInode dir, in SgzInode victim, string what)
    {
        if ((dir.Mode & Sticky) != 0 && c.Uid != 0 && c.Uid != victim.Uid && c.Uid != dir.Uid)
        {
            throw new ZoneException(ZoneError.NotPermitted, $"{what}: the directory is sticky and uid {c.Uid} owns neither it nor the entry");
        }
    }
}
