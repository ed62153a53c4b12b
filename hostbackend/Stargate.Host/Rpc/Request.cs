using System.Buffers.Binary;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Rpc;

/// <summary>
/// A guest's request after every check of docs/requests.md "What the host checks":
/// only values that passed are here, in the Zone API's types. Fields an opcode
/// does not use keep their defaults.
/// </summary>
internal sealed record Request(ulong Seq, int Opcode, Caller Caller)
{
    public NodeRef Node { get; init; }

    public NodeRef Node2 { get; init; }

    public uint Mode { get; init; }

    public byte[] Name { get; init; } = [];

    /// <summary>Rename's new name, a symlink's target, or an xattr's full name.</summary>
    public byte[] Name2 { get; init; } = [];

    /// <summary>A setxattr's value: the bytes copied once from the tag's payload buffer.</summary>
    public byte[] Payload { get; init; } = [];

    public uint Flags { get; init; }

    public AttributeChange Attributes { get; init; }

    public ulong Offset { get; init; }

    /// <summary>COPY's destination offset (sgz_request.rdev).</summary>
    public ulong Offset2 { get; init; }

    public ulong Length { get; init; }

    public LockRange Range { get; init; }

    public LockHolder Holder { get; init; }

    /// <summary>A refused LOCK asks to be rung when a lock on its inode goes.</summary>
    public bool Wait => (Flags & SgzAbi.ReqLockWait) != 0;

    /// <summary>
    /// Checks every field <paramref name="opcode"/> uses; a field that fails throws
    /// <see cref="BadRequestException"/> with the status the reply carries.
    /// <paramref name="payload"/> is the copy of the tag's payload buffer the server took
    /// with the request (min(length, SGZ_PAYLOAD_SIZE) bytes; null without SGZ_REQ_PAYLOAD).
    /// </summary>
    public static Request Parse(in SgzRequest raw, int slot, ZoneGeometry geometry, byte[]? payload = null)
    {
        int opcode = raw.Opcode is >= SgzAbi.OpCreate and <= SgzAbi.OpRemovexattr or SgzAbi.OpPunch or SgzAbi.OpCopy
            ? (int)raw.Opcode
            : throw new BadRequestException(SgzAbi.StatusEnosys, $"unknown opcode {raw.Opcode}");
        if ((raw.Flags & SgzAbi.ReqCaller) == 0)
        {
            throw new BadRequestException(SgzAbi.StatusEproto, "no SGZ_REQ_CALLER flag: a guest module older than zone format 1.2 (its caller fields would read as uid 0); rebuild the guest module");
        }

        var request = new Request(raw.Seq, opcode, CallerOf(raw, opcode, slot));
        uint flags = raw.Flags & ~(SgzAbi.ReqCaller | SgzAbi.ReqPayload);
        byte[]? carried = PayloadOf(raw, opcode, payload);
        var node = new NodeRef(raw.Ino, raw.Generation);
        return opcode switch
        {
            SgzAbi.OpCreate => flags switch
            {
                0 => request.Making(raw, geometry, SgzAbi.SIfreg),
                SgzAbi.ReqTmpfile => request.MakingTmpfile(raw, geometry),
                _ => throw new BadRequestException(SgzAbi.StatusEinval, $"create flags 0x{flags:x} have unknown bits"),
            },
            SgzAbi.OpMkdir => request.Making(raw, geometry, SgzAbi.SIfdir),
            SgzAbi.OpMknod => request.MakingNode(raw, geometry),
            SgzAbi.OpSymlink => request with
            {
                Node = Inode(OwnedByCaller(raw, node), geometry),
                Name = EntryName(raw, 0),
                Mode = SgzAbi.SIflnk | 0x1ff,
                Name2 = carried is null ? SymlinkTarget(raw) : LongSymlinkTarget(carried),
            },
            SgzAbi.OpLink => request with
            {
                Node = Inode(node, geometry),
                Name = EntryName(raw, 0),
                Node2 = Inode(new NodeRef(raw.Ino2, raw.Generation2), geometry),
            },
            SgzAbi.OpUnlink or SgzAbi.OpRmdir => request with { Node = Inode(node, geometry), Name = EntryName(raw, 0) },
            SgzAbi.OpRename => request with
            {
                Node = Inode(node, geometry),
                Name = EntryName(raw, 0),
                Node2 = Inode(new NodeRef(raw.Ino2, raw.Generation2), geometry),
                Name2 = EntryName(raw, 1),
                Flags = RenameFlags(flags),
            },
            SgzAbi.OpSetattr => request with { Node = Inode(node, geometry), Attributes = AttributeChangeOf(raw, flags) },
            SgzAbi.OpAllocate or SgzAbi.OpPunch => request with { Node = Inode(node, geometry), Offset = raw.Offset, Length = AllocateLength(raw) },
            SgzAbi.OpCopy => request with
            {
                Node = Inode(node, geometry),
                Node2 = Inode(new NodeRef(raw.Ino2, raw.Generation2), geometry),
                Offset = raw.Offset,
                Offset2 = raw.Rdev,
                Length = CopyLength(raw),
                Flags = (flags & ~SgzAbi.ReqCopyFsetid) == 0 ? flags : throw new BadRequestException(SgzAbi.StatusEinval, $"copy flags 0x{flags:x} have unknown bits"),
            },
            SgzAbi.OpLock or SgzAbi.OpGetlk => request.Locking(raw, flags, geometry),
            SgzAbi.OpRelease => request with { Node = Inode(node, geometry) },
            SgzAbi.OpSetxattr or SgzAbi.OpRemovexattr => request.Xattr(raw, flags, carried, geometry),
            SgzAbi.OpAck => raw.Ino == 0 && (flags & ~SgzAbi.ReqAckDetach) == 0
                ? request with { Offset = raw.Offset, Flags = flags }
                : throw new BadRequestException(SgzAbi.StatusEinval, $"ack names inode {raw.Ino} or has unknown flags 0x{flags:x}"),
            _ => raw.Ino == 0 ? request : throw new BadRequestException(SgzAbi.StatusEinval, $"nop names inode {raw.Ino}"),
        };
    }

    /// <summary>
    /// The payload bytes of a request with SGZ_REQ_PAYLOAD (only symlink and setxattr carry
    /// one; length at most SGZ_PAYLOAD_SIZE), null for one without.
    /// </summary>
    private static byte[]? PayloadOf(in SgzRequest raw, int opcode, byte[]? payload)
    {
        if ((raw.Flags & SgzAbi.ReqPayload) == 0)
        {
            return null;
        }

        if (opcode is not (SgzAbi.OpSymlink or SgzAbi.OpSetxattr))
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"opcode {opcode} carries no payload");
        }

        if (raw.Length > SgzAbi.PayloadSize || payload is null || (ulong)payload.Length != raw.Length)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"payload of {raw.Length} bytes (0..{SgzAbi.PayloadSize})");
        }

        return payload;
    }

    /// <summary>Setxattr and removexattr: the inode, the full name (name2), setxattr's value (the payload) and flags.</summary>
    private Request Xattr(in SgzRequest raw, uint flags, byte[]? value, ZoneGeometry geometry)
    {
        bool set = Opcode == SgzAbi.OpSetxattr;
        uint known = set ? SgzAbi.XattrCreate | SgzAbi.XattrReplace | SgzAbi.ReqXattrAdmin : SgzAbi.ReqXattrAdmin;
        if ((flags & ~known) != 0 || (flags & (SgzAbi.XattrCreate | SgzAbi.XattrReplace)) == (SgzAbi.XattrCreate | SgzAbi.XattrReplace))
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"xattr flags 0x{flags:x}");
        }

        if (set != value is not null)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, set ? "setxattr without its value (SGZ_REQ_PAYLOAD)" : "removexattr with a payload");
        }

        int length = raw.Name2Len;
        if (length == 0 || length > SgzAbi.XattrNameMax)
        {
            throw new BadRequestException(length == 0 ? SgzAbi.StatusEinval : SgzAbi.StatusEnametoolong, $"xattr name of {length} bytes (1..{SgzAbi.XattrNameMax})");
        }

        byte[] name;
        unsafe
        {
            fixed (byte* bytes = raw.Name2)
            {
                name = new ReadOnlySpan<byte>(bytes, length).ToArray();
            }
        }

        try
        {
            _ = XattrBlock.Split(name);
        }
        catch (ZoneException e)
        {
            throw new BadRequestException(e.Errno, e.Message);
        }

        return this with { Node = Inode(new NodeRef(raw.Ino, raw.Generation), geometry), Name2 = name, Payload = value ?? [], Flags = flags };
    }

    private static byte[] LongSymlinkTarget(byte[] target) =>
        target.Length is 0 or > SgzAbi.SymlinkTargetMax
            ? throw new BadRequestException(target.Length == 0 ? SgzAbi.StatusEinval : SgzAbi.StatusEnametoolong, $"symlink target of {target.Length} bytes (1..{SgzAbi.SymlinkTargetMax})")
            : target.AsSpan().IndexOf((byte)0) < 0 ? target : throw new BadRequestException(SgzAbi.StatusEinval, "symlink target has a NUL in it");

    private Request Making(in SgzRequest raw, ZoneGeometry geometry, params uint[] types)
    {
        uint type = raw.Mode & SgzAbi.SIfmt;
        if (Array.IndexOf(types, type) < 0 || (raw.Mode & ~(SgzAbi.SIfmt | Permissions)) != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"mode 0{Convert.ToString(raw.Mode, 8)} is not allowed for opcode {Opcode}");
        }

        return this with { Node = Inode(OwnedByCaller(raw, new NodeRef(raw.Ino, raw.Generation)), geometry), Name = EntryName(raw, 0), Mode = raw.Mode };
    }

    /// <summary>
    /// MKNOD: a fifo or socket (rdev 0), or a character or block device (any rdev that fits
    /// the kernel's 32-bit dev_t: 12 bits of major, 20 of minor), which only uid 0 may make
    /// (the guest's kernel asked for CAP_MKNOD; a guest whose export squashes root has no
    /// uid 0). Opening a device node is each reader's nodev mount's business.
    /// </summary>
    private Request MakingNode(in SgzRequest raw, ZoneGeometry geometry)
    {
        var made = Making(raw, geometry, SgzAbi.SIfifo, SgzAbi.SIfsock, SgzAbi.SIfchr, SgzAbi.SIfblk);
        bool device = (raw.Mode & SgzAbi.SIfmt) is SgzAbi.SIfchr or SgzAbi.SIfblk;
        if (!device && raw.Rdev != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"a fifo or socket has no device number (rdev {raw.Rdev})");
        }

        if (raw.Rdev > uint.MaxValue)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"device number 0x{raw.Rdev:x} does not fit 32 bits");
        }

        if (device && Caller.Uid != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEperm, $"uid {Caller.Uid} may not make device nodes");
        }

        return made with { Offset = raw.Rdev };
    }

    /// <summary>CREATE with SGZ_REQ_TMPFILE: an O_TMPFILE in the directory, a regular file with no name (name_len 0).</summary>
    private Request MakingTmpfile(in SgzRequest raw, ZoneGeometry geometry)
    {
        if ((raw.Mode & SgzAbi.SIfmt) != SgzAbi.SIfreg || (raw.Mode & ~(SgzAbi.SIfmt | Permissions)) != 0 || raw.NameLen != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"an O_TMPFILE is a regular file with no name (mode 0{Convert.ToString(raw.Mode, 8)}, name of {raw.NameLen} bytes)");
        }

        return this with { Node = Inode(OwnedByCaller(raw, new NodeRef(raw.Ino, raw.Generation)), geometry), Mode = raw.Mode, Flags = SgzAbi.ReqTmpfile };
    }

    /// <summary>A new inode is the caller's: owner fields that name anyone else make a malformed request. Returns <paramref name="dir"/>.</summary>
    private static NodeRef OwnedByCaller(in SgzRequest raw, NodeRef dir) =>
        raw.Uid == raw.CallerUid && raw.Gid == raw.CallerGid
            ? dir
            : throw new BadRequestException(SgzAbi.StatusEinval, $"new inode's owner {raw.Uid}:{raw.Gid} is not the caller {raw.CallerUid}:{raw.CallerGid}");

    private Request Locking(in SgzRequest raw, uint flags, ZoneGeometry geometry)
    {
        uint known = Opcode == SgzAbi.OpLock ? SgzAbi.ReqLockKnown : SgzAbi.ReqLockFlock;
        if ((flags & ~known) != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"lock flags 0x{flags:x} have unknown bits");
        }

        bool getlk = Opcode == SgzAbi.OpGetlk;
        if (raw.LockType > SgzAbi.LockWrite || (getlk && raw.LockType == SgzAbi.LockUnlock))
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"lock type {raw.LockType} is not allowed for opcode {Opcode}");
        }

        bool flock = (flags & SgzAbi.ReqLockFlock) != 0;
        var range = flock
            ? new LockRange(SgzAbi.LockKindFlock, (int)raw.LockType, 0, SgzAbi.LockEof)
            : new LockRange(SgzAbi.LockKindPosix, (int)raw.LockType, raw.Offset, LockEnd(raw.Offset, raw.Length));
        return this with
        {
            Node = Inode(new NodeRef(raw.Ino, raw.Generation), geometry),
            Flags = flags,
            Range = range,
            Holder = new LockHolder(Caller.Slot, raw.Owner, raw.Pid),
        };
    }

    /// <summary>
    /// A POSIX range's last byte. No byte lies past the largest file, so a range reaching
    /// beyond it is the same lock as one to the end of file and is stored as such.
    /// </summary>
    private static ulong LockEnd(ulong start, ulong length)
    {
        if (start >= LargestFile)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"lock start {start} is past the largest file");
        }

        if (length == 0 || length > LargestFile - start)
        {
            return SgzAbi.LockEof;
        }

        return start + length - 1;
    }

    private const uint Permissions = SgzAbi.SIallugo;

    private const ulong LargestFile = SgzAbi.FileSizeMax;

    /// <summary>An inode number inside the table; whether it is live, of that generation and type, the zone checks under its lock.</summary>
    private static NodeRef Inode(NodeRef node, ZoneGeometry geometry) =>
        node.Ino >= SgzAbi.RootIno && node.Ino < geometry.InodeCount
            ? node
            : throw new BadRequestException(SgzAbi.StatusEstale, $"inode {node.Ino} is outside the table (1..{geometry.InodeCount - 1})");

    private static unsafe byte[] EntryName(in SgzRequest raw, int which)
    {
        int length = which == 0 ? raw.NameLen : raw.Name2Len;
        if (length == 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, "empty name");
        }

        if (length > SgzAbi.NameMax)
        {
            throw new BadRequestException(SgzAbi.StatusEnametoolong, $"name of {length} bytes (at most {SgzAbi.NameMax})");
        }

        byte[] name;
        fixed (SgzRequest* r = &raw)
        {
            name = new ReadOnlySpan<byte>(which == 0 ? r->Name : r->Name2, length).ToArray();
        }

        if (name.AsSpan().IndexOfAny((byte)'/', (byte)0) >= 0 || name is [(byte)'.'] or [(byte)'.', (byte)'.'])
        {
            throw new BadRequestException(SgzAbi.StatusEinval, "a name has '/' or NUL in it, or is '.' or '..'");
        }

        return name;
    }

    private static unsafe byte[] SymlinkTarget(in SgzRequest raw)
    {
        int length = raw.Name2Len;
        if (length == 0 || length > SgzAbi.SymlinkMax)
        {
            throw new BadRequestException(length == 0 ? SgzAbi.StatusEinval : SgzAbi.StatusEnametoolong, $"symlink target of {length} bytes (1..{SgzAbi.SymlinkMax})");
        }

        byte[] target;
        fixed (byte* bytes = raw.Name2)
        {
            target = new ReadOnlySpan<byte>(bytes, length).ToArray();
        }

        return target.AsSpan().IndexOf((byte)0) < 0 ? target : throw new BadRequestException(SgzAbi.StatusEinval, "symlink target has a NUL in it");
    }

    private static uint RenameFlags(uint flags) =>
        (flags & ~SgzAbi.RenameKnown) == 0 && flags != SgzAbi.RenameKnown
            ? flags
            : throw new BadRequestException(SgzAbi.StatusEinval, $"rename flags 0x{flags:x}");

    /// <summary>
    /// The caller's fsuid, fsgid and (setattr and allocate only, in name[]) supplementary
    /// groups, never the owner fields: those are a chown's new owner.
    /// </summary>
    private static unsafe Caller CallerOf(in SgzRequest raw, int opcode, int slot)
    {
        if (raw.Ngroups > SgzAbi.ReqGroupsMax || (raw.Ngroups != 0 && opcode is not (SgzAbi.OpSetattr or SgzAbi.OpAllocate or SgzAbi.OpSetxattr or SgzAbi.OpRemovexattr or SgzAbi.OpPunch or SgzAbi.OpCopy)))
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"{raw.Ngroups} groups (0..{SgzAbi.ReqGroupsMax}, and only with setattr, allocate, setxattr and removexattr)");
        }

        var groups = new uint[raw.Ngroups];
        fixed (byte* name = raw.Name)
        {
            var gids = new ReadOnlySpan<byte>(name, groups.Length * sizeof(uint));
            for (int i = 0; i < groups.Length; i++)
            {
                groups[i] = BinaryPrimitives.ReadUInt32LittleEndian(gids[(i * sizeof(uint))..]);
            }
        }

        return new Caller(raw.CallerUid, raw.CallerGid, slot) { Groups = groups };
    }

    private static AttributeChange AttributeChangeOf(in SgzRequest raw, uint flags)
    {
        if ((flags & ~(SgzAbi.ReqSetattrFile | SgzAbi.ReqSetattrAccess)) != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"setattr flags 0x{flags:x} have unknown bits");
        }

        if ((flags & SgzAbi.ReqSetattrAccess) != 0 && (raw.Valid != SgzAbi.AttrAtime || raw.AtimeNs != SgzAbi.TimeNow))
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"an access-time update sets atime to now and nothing else (valid 0x{raw.Valid:x})");
        }

        if ((raw.Valid & ~SgzAbi.AttrKnown) != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"setattr valid 0x{raw.Valid:x} has unknown bits");
        }

        // A chmod may carry the inode's type bits with the permissions (the kernel's ia_mode does); only the permissions change.
        if ((raw.Valid & SgzAbi.AttrMode) != 0 && (raw.Mode & ~(SgzAbi.SIfmt | Permissions)) != 0)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"setattr mode 0{Convert.ToString(raw.Mode, 8)}");
        }

        if ((raw.Valid & SgzAbi.AttrSize) != 0 && raw.Offset > LargestFile)
        {
            throw new BadRequestException(SgzAbi.StatusEfbig, $"size {raw.Offset} is past the largest file");
        }

        return new AttributeChange(raw.Valid, raw.Mode & Permissions, raw.Uid, raw.Gid, raw.Offset, raw.AtimeNs, raw.MtimeNs)
        {
            ViaOpenFile = (flags & SgzAbi.ReqSetattrFile) != 0,
            Access = (flags & SgzAbi.ReqSetattrAccess) != 0,
        };
    }

    private static ulong AllocateLength(in SgzRequest raw)
    {
        if (raw.Length == 0 || raw.Length > SgzAbi.AllocateMax)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"allocate length {raw.Length} (1..{SgzAbi.AllocateMax})");
        }

        if (raw.Offset > LargestFile || raw.Length > LargestFile - raw.Offset)
        {
            throw new BadRequestException(SgzAbi.StatusEfbig, $"allocate {raw.Offset}+{raw.Length} is past the largest file");
        }

        return raw.Length;
    }

    /// <summary>COPY: 1..SGZ_COPY_MAX bytes, the source and destination ranges inside the largest file.</summary>
    private static ulong CopyLength(in SgzRequest raw)
    {
        if (raw.Length == 0 || raw.Length > SgzAbi.CopyMax)
        {
            throw new BadRequestException(SgzAbi.StatusEinval, $"copy length {raw.Length} (1..{SgzAbi.CopyMax})");
        }

        if (raw.Offset > LargestFile - raw.Length || raw.Rdev > LargestFile - raw.Length)
        {
            throw new BadRequestException(SgzAbi.StatusEfbig, $"copy {raw.Offset}+{raw.Length} to {raw.Rdev} is past the largest file");
        }

        return raw.Length;
    }
}

/// <summary>A request field failed a check: the reply carries <see cref="Errno"/>; nothing changes.</summary>
internal sealed class BadRequestException(int errno, string message) : Exception(message)
{
    public int Errno { get; } = errno;
}
