using Stargate.Interop.Abi;

namespace Stargate.Host.Zone;

/// <summary>setattr and allocate (docs/requests.md, SETATTR and "Space for appends").</summary>
public sealed partial class Zone
{
    private const uint KnownAttributes = SgzAbi.AttrMode | SgzAbi.AttrUid | SgzAbi.AttrGid | SgzAbi.AttrSize | SgzAbi.AttrAtime | SgzAbi.AttrMtime;

    /// <summary>Most bytes one allocate request may name.</summary>
    private const ulong MaxAllocateLength = 1UL << 30;

    /// <summary>
    /// Changes mode (its permission bits; the type stays), owner, group, size (regular
    /// files: a truncate) and times; ctime always becomes now. Every check runs first; one
    /// change. Returns the size after.
    /// </summary>
    public ulong SetAttributes(Caller c, NodeRef node, AttributeChange change)
    {
        if ((change.Valid & ~KnownAttributes) != 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"setattr of inode {node.Ino}: unknown valid bits 0x{change.Valid & ~KnownAttributes:x}");
        }

        lock (Sync)
        {
            var inode = LoadNode(node);
            string what = $"setattr of inode {node.Ino}";
            bool owner = IsOwner(c, inode);
            bool has(uint bit) => (change.Valid & bit) != 0;
            if (has(SgzAbi.AttrMode) && !owner)
            {
                throw new ZoneException(ZoneError.NotPermitted, $"{what}: only its owner ({inode.Uid}) may change its mode");
            }

            if (has(SgzAbi.AttrUid) && c.Uid != 0 && change.Uid != inode.Uid)
            {
                throw new ZoneException(ZoneError.NotPermitted, $"{what}: only uid 0 may change its owner");
            }

            if (has(SgzAbi.AttrGid) && c.Uid != 0 && change.Gid != inode.Gid && !(owner && change.Gid == c.Gid))
            {
                throw new ZoneException(ZoneError.NotPermitted, $"{what}: its owner may give it only the owner's own group ({c.Gid}), not {change.Gid}");
            }

            if (has(SgzAbi.AttrSize))
            {
                RequireFile(node.Ino, inode);
                RequireMay(c, node.Ino, inode, MayWrite, what);
                CheckFileSize(change.Size);
            }

            foreach (var (bit, value) in new[] { (SgzAbi.AttrAtime, change.AtimeNs), (SgzAbi.AttrMtime, change.MtimeNs) })
            {
                if (has(bit) && !owner && (value != SgzAbi.TimeNow || !May(c, inode, MayWrite)))
                {
                    throw new ZoneException(value == SgzAbi.TimeNow ? ZoneError.AccessDenied : ZoneError.NotPermitted,
                        $"{what}: only its owner may set its times{(value == SgzAbi.TimeNow ? " (or, to now, a writer)" : string.Empty)}");
                }
            }

            return Change(() =>
            {
                ulong now = ZoneClock.NowNs();
                if (has(SgzAbi.AttrSize))
                {
                    Resize(node.Ino, change.Size);
                }

                ref var w = ref InodeForWrite(node.Ino);
                uint mode = has(SgzAbi.AttrMode) ? (w.Mode & SgzAbi.SIfmt) | (change.Mode & PermissionBits) : w.Mode;
                bool owners = (has(SgzAbi.AttrUid) && change.Uid != w.Uid) || (has(SgzAbi.AttrGid) && change.Gid != w.Gid);
                w.Uid = has(SgzAbi.AttrUid) ? change.Uid : w.Uid;
                w.Gid = has(SgzAbi.AttrGid) ? change.Gid : w.Gid;

                // As Linux does: a new owner or group drops set-user-id (and an executable set-group-id)
                // of a non-directory, and chmod by someone outside the file's group drops set-group-id.
                if (owners && !IsDirectory(w))
                {
                    mode &= ~(SetUid | ((mode & 0x8) != 0 ? SetGid : 0));
                }

                if (has(SgzAbi.AttrMode) && c.Uid != 0 && c.Gid != w.Gid)
                {
                    mode &= ~SetGid;
                }

                w.Mode = mode;
                w.AtimeNs = has(SgzAbi.AttrAtime) ? TimeOrNow(change.AtimeNs, now) : w.AtimeNs;
                w.MtimeNs = has(SgzAbi.AttrMtime) ? TimeOrNow(change.MtimeNs, now) : w.MtimeNs;
                w.CtimeNs = now;
                return w.Size;
            });
        }
    }

    /// <summary>
    /// Fills every hole in [offset, offset + length) of a regular file and allocates ahead:
    /// under 2 MiB the end rounds up to a power of two of 4 KiB pages, from 2 MiB on to the
    /// next 2 MiB chunk. Pages come from <see cref="Caller.Slot"/>'s partition. One change;
    /// returns the allocated end.
    /// </summary>
    public ulong Allocate(Caller c, NodeRef file, ulong offset, ulong length)
    {
        if (length == 0 || length > MaxAllocateLength)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"allocate in inode {file.Ino}: length {length} is not 1..{MaxAllocateLength}");
        }

        if (offset > MaxFileSize || length > MaxFileSize - offset)
        {
            throw new ZoneException(ZoneError.FileTooLarge, $"allocate in inode {file.Ino}: {offset}+{length} passes the largest file size, {Units.Bytes(MaxFileSize)}");
        }

        CheckSlot(c.Slot);
        lock (Sync)
        {
            var inode = LoadNode(file);
            RequireFile(file.Ino, inode);
            RequireMay(c, file.Ino, inode, MayWrite, $"allocate in inode {file.Ino}");
            ulong end = AllocationEnd(offset + length);
            bool large = end >= ZoneGeometry.ChunkSize;
            Change(() => Populate(file.Ino, offset, end, c.Slot, chunk => chunk > 0 || large));
            return end;
        }
    }

    /// <summary>Where an allocation that must reach <paramref name="end"/> stops (see <see cref="Allocate"/>).</summary>
    internal static ulong AllocationEnd(ulong end)
    {
        if (end >= ZoneGeometry.ChunkSize)
        {
            return Math.Min(Units.RoundUp(end, ZoneGeometry.ChunkSize), MaxFileSize);
        }

        ulong pages = (end + ZoneGeometry.PageSize - 1) / ZoneGeometry.PageSize;
        return System.Numerics.BitOperations.RoundUpToPowerOf2(pages) * ZoneGeometry.PageSize;
    }

    private static ulong TimeOrNow(ulong value, ulong now) => value == SgzAbi.TimeNow ? now : value;

    private static void CheckFileSize(ulong size)
    {
        if (size > MaxFileSize)
        {
            throw new ZoneException(ZoneError.FileTooLarge, $"size {size} passes the largest file size, {Units.Bytes(MaxFileSize)}");
        }
    }

    private void CheckSlot(int slot)
    {
        if (slot < 0 || (uint)slot >= Geometry.MaxPeers)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"peer slot {slot} is outside the zone's table (0..{Geometry.MaxPeers - 1})");
        }
    }

    /// <summary>
    /// Sets a regular file's size, and its mtime and ctime to now; inside a change. Shrinking
    /// frees whole pages past the end and, once the change commits, zeroes what stays
    /// allocated past the new end (the tail of the last page, the rest of a 2 MiB leaf), so
    /// allocated bytes past the end always read as zeros. Growing zeroes what it exposes.
    /// </summary>
    private void Resize(ulong ino, ulong size)
    {
        var inode = LoadInode(ino);
        if (size < inode.Size)
        {
            FreeFrom(ino, Units.RoundUp(size, ZoneGeometry.PageSize));
            var kept = LoadInode(ino);
            ulong tailEnd = Units.RoundUp(size, ZoneGeometry.ChunkSize);
            for (ulong pos = size; pos < tailEnd;)
            {
                var extent = Map(ino, kept, pos);
                ulong n = Math.Min(extent.Length, tailEnd - pos);
                if (!extent.IsHole)
                {
                    CurrentChange().ToZero.Add(new ZoneRegion(extent.ZoneOffset, n));
                }

                pos += n;
            }
        }
        else if (size > inode.Size)
        {
            ZeroAllocated(ino, inode.Size, size);
        }

        ref var w = ref InodeForWrite(ino);
        w.Size = size;
        w.MtimeNs = w.CtimeNs = ZoneClock.NowNs();
    }
}
