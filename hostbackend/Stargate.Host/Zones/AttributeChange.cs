using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// A setattr: <see cref="Valid"/> holds SGZ_ATTR_* bits naming the fields that apply;
/// a time of SGZ_TIME_NOW means the host's clock. <see cref="ViaOpenFile"/>: the change
/// goes through a file the caller opened for writing (SGZ_REQ_SETATTR_FILE: ftruncate).
/// The POSIX rules for who may make it are <see cref="Check"/>'s; the mode it leaves is
/// <see cref="ModeAfter"/>'s.
/// </summary>
public readonly record struct AttributeChange(uint Valid, uint Mode, uint Uid, uint Gid, ulong Size, ulong AtimeNs, ulong MtimeNs)
{
    public bool ViaOpenFile { get; init; }

    /// <summary>An access-time update (SGZ_REQ_SETATTR_ACCESS: a read's relatime), which a reader may make and which leaves ctime.</summary>
    public bool Access { get; init; }

    private bool Has(uint bit) => (Valid & bit) != 0;

    /// <summary>
    /// The caller's right to this change of <paramref name="inode"/>, as Linux's
    /// setattr_prepare and do_truncate judge it: chmod by the owner or uid 0; chown of the
    /// uid by uid 0 only (the owner may name its own uid); chgrp by the owner to the file's
    /// group or one the caller is in, or by uid 0; truncate with write permission, or through
    /// a file opened for writing; times by the owner or uid 0, "now" also by a writer; kill
    /// privs by anyone (it only clears). Throws NotPermitted (EPERM) or AccessDenied (EACCES).
    /// </summary>
    public void Check(Caller c, ulong ino, in SgzInode inode)
    {
        string what = $"setattr of inode {ino}";
        if (Access)
        {
            Permissions.RequireMay(c, ino, inode, Permissions.MayRead, $"access time of inode {ino}");
            return;
        }

        bool owner = Permissions.IsOwner(c, inode);
        if (Has(SgzAbi.AttrMode) && !owner)
        {
            throw new ZoneException(ZoneError.NotPermitted, $"{what}: only its owner ({inode.Uid}) or uid 0 may change its mode, not uid {c.Uid}");
        }

        if (Has(SgzAbi.AttrUid) && c.Uid != 0 && !(c.Uid == inode.Uid && Uid == inode.Uid))
        {
            throw new ZoneException(ZoneError.NotPermitted, $"{what}: only uid 0 may change its owner ({inode.Uid} to {Uid}), not uid {c.Uid}");
        }

        if (Has(SgzAbi.AttrGid) && c.Uid != 0 && !(c.Uid == inode.Uid && (Gid == inode.Gid || c.InGroup(Gid))))
        {
            throw new ZoneException(ZoneError.NotPermitted,
                $"{what}: only its owner ({inode.Uid}) may change its group, and only to a group it is in; uid {c.Uid} is not in group {Gid} or is not the owner");
        }

        if (Has(SgzAbi.AttrSize) && !ViaOpenFile)
        {
            Permissions.RequireMay(c, ino, inode, Permissions.MayWrite, what);
        }

        foreach (var (bit, value) in new[] { (SgzAbi.AttrAtime, AtimeNs), (SgzAbi.AttrMtime, MtimeNs) })
        {
            if (Has(bit) && !owner && (value != SgzAbi.TimeNow || !Permissions.May(c, inode, Permissions.MayWrite)))
            {
                throw new ZoneException(value == SgzAbi.TimeNow ? ZoneError.AccessDenied : ZoneError.NotPermitted,
                    $"{what}: only its owner may set its times{(value == SgzAbi.TimeNow ? " (or, to now, a writer)" : string.Empty)}");
            }
        }
    }

    /// <summary>
    /// The mode after this change of an inode whose mode was <paramref name="mode"/> and whose
    /// owner and group were <paramref name="uid"/> and <paramref name="gid"/>, as Linux leaves
    /// it: a new owner or group drops set-user-id (and an executable set-group-id) of a
    /// non-directory; a chmod by someone other than uid 0 outside the file's (new) group drops
    /// set-group-id; kill privs drops set-user-id and an executable set-group-id.
    /// </summary>
    public uint ModeAfter(Caller c, uint mode, uint uid, uint gid)
    {
        uint after = Has(SgzAbi.AttrMode) ? (mode & SgzAbi.SIfmt) | (Mode & Permissions.PermissionBits) : mode;
        bool owners = (Has(SgzAbi.AttrUid) && Uid != uid) || (Has(SgzAbi.AttrGid) && Gid != gid);
        if ((owners && (after & SgzAbi.SIfmt) != SgzAbi.SIfdir) || Has(SgzAbi.AttrKillPriv))
        {
            after &= ~Permissions.KilledPrivileges(after);
        }

        if (Has(SgzAbi.AttrMode) && c.Uid != 0 && !c.InGroup(Has(SgzAbi.AttrGid) ? Gid : gid))
        {
            after &= ~Permissions.SetGid;
        }

        return after;
    }
}
