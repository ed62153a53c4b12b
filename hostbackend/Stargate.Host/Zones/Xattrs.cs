using System.Text;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Extended attributes (docs/zone-format.md "Extended attributes"): all of an inode's
/// names and values in one xattr block of the structure pool (<see cref="XattrBlock"/>),
/// named by sgz_inode.xattr and counted in the inode's pages. A set or remove rewrites the
/// whole block in the journalled change that holds the inode's seqcount (guests copy the
/// block under it), bumps ctime and change; the last entry's removal frees the block.
/// Permissions as Linux's xattr_permission: user.* only on regular files and directories,
/// with write permission (and, in a sticky directory, ownership); trusted.* needs
/// CAP_SYS_ADMIN (<c>admin</c>); security.* needs CAP_SYS_ADMIN or ownership (the guest's
/// security module decides the rest). Public members take the zone's lock.
/// </summary>
public sealed class Xattrs
{
    private readonly string _path;
    private readonly ZoneMemory _memory;
    private readonly ZoneGeometry _geometry;
    private readonly ZoneWriter _writer;
    private readonly InodeTable _inodes;
    private readonly Allocator _allocator;
    private readonly PeerTable _peers;
    private readonly Func<string, ulong> _resolve;
    private readonly Lock _gate;

    internal Xattrs(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, InodeTable inodes, Allocator allocator, PeerTable peers, Func<string, ulong> resolve, Lock gate)
    {
        _path = path;
        _memory = memory;
        _geometry = geometry;
        _writer = writer;
        _inodes = inodes;
        _allocator = allocator;
        _peers = peers;
        _resolve = resolve;
        _gate = gate;
    }

    /// <summary>The attributes of the inode at <paramref name="path"/>, in block order.</summary>
    public IReadOnlyList<XattrEntry> ListXattrs(string path)
    {
        lock (_gate)
        {
            ulong ino = _resolve(path);
            return Entries(ino, _inodes.LoadLive(ino));
        }
    }

    /// <summary>The value of <paramref name="name"/> (a full name, "user.x"); NoData when the inode has none of that name.</summary>
    public byte[] GetXattr(string path, string name)
    {
        var (index, suffix) = XattrBlock.Split(Encoding.UTF8.GetBytes(name));
        lock (_gate)
        {
            ulong ino = _resolve(path);
            return (Entries(ino, _inodes.LoadLive(ino)).Find(e => e.Index == index && e.Name.AsSpan().SequenceEqual(suffix))
                ?? throw NoData(name, ino)).Value;
        }
    }

    /// <summary>The attributes of <paramref name="node"/> (ESTALE for another generation), in block order.</summary>
    public IReadOnlyList<XattrEntry> ListXattrs(NodeRef node)
    {
        lock (_gate)
        {
            return Entries(node.Ino, _inodes.LoadNode(node));
        }
    }

    /// <summary>The value of the full name <paramref name="name"/> on <paramref name="node"/>; NoData when it has none.</summary>
    public byte[] GetXattr(NodeRef node, ReadOnlySpan<byte> name)
    {
        var (index, suffix) = XattrBlock.Split(name);
        byte[] wanted = suffix.ToArray();
        lock (_gate)
        {
            return (Entries(node.Ino, _inodes.LoadNode(node)).Find(e => e.Index == index && e.Name.AsSpan().SequenceEqual(wanted))
                ?? throw NoData(Encoding.UTF8.GetString(name), node.Ino)).Value;
        }
    }

    /// <summary>setxattr(2) by the host (uid 0 with every capability); <paramref name="flags"/> SGZ_XATTR_CREATE or SGZ_XATTR_REPLACE.</summary>
    public void SetXattr(string path, string name, ReadOnlySpan<byte> value, uint flags = 0)
    {
        lock (_gate)
        {
            ulong ino = _resolve(path);
            SetXattr(Caller.Host, new NodeRef(ino, _inodes.LoadLive(ino).Generation), Encoding.UTF8.GetBytes(name), value, flags, admin: true);
        }
    }

    public void RemoveXattr(string path, string name)
    {
        lock (_gate)
        {
            ulong ino = _resolve(path);
            RemoveXattr(Caller.Host, new NodeRef(ino, _inodes.LoadLive(ino).Generation), Encoding.UTF8.GetBytes(name), admin: true);
        }
    }

    /// <summary>
    /// Sets <paramref name="name"/> of <paramref name="node"/> to <paramref name="value"/>:
    /// Exists with SGZ_XATTR_CREATE when it is there, NoData with SGZ_XATTR_REPLACE when it is
    /// not, NoSpace when the inode's attributes would not fit one block. Nothing changes on error.
    /// </summary>
    public void SetXattr(Caller c, NodeRef node, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags, bool admin)
    {
        var (index, suffix) = XattrBlock.Split(name);
        if ((flags & ~(SgzAbi.XattrCreate | SgzAbi.XattrReplace)) != 0 || flags == (SgzAbi.XattrCreate | SgzAbi.XattrReplace))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"setxattr flags 0x{flags:x}");
        }

        byte[] bytes = value.ToArray();
        lock (_gate)
        {
            var (entries, what) = Writable(c, node, name, index, admin);
            int at = entries.FindIndex(e => e.Index == index && e.Name.AsSpan().SequenceEqual(suffix));
            if (at >= 0 && (flags & SgzAbi.XattrCreate) != 0)
            {
                throw new ZoneException(ZoneError.Exists, $"{what}: already exists (XATTR_CREATE)");
            }

            if (at < 0 && (flags & SgzAbi.XattrReplace) != 0)
            {
                throw NoData(Encoding.UTF8.GetString(name), node.Ino);
            }

            var entry = new XattrEntry(index, suffix, bytes);
            if (at >= 0)
            {
                entries[at] = entry;
            }
            else
            {
                entries.Add(entry);
            }

            int used = XattrBlock.Used(entries);
            if (used > XattrBlock.Room)
            {
                throw new ZoneException(ZoneError.NoSpace, $"{what}: the inode's attributes would take {used} bytes, and one block holds {XattrBlock.Room}");
            }

            _writer.Change(() => Store(node.Ino, entries, c.Slot));
        }
    }

    /// <summary>Removes <paramref name="name"/> of <paramref name="node"/>; NoData when it has none.</summary>
    public void RemoveXattr(Caller c, NodeRef node, ReadOnlySpan<byte> name, bool admin)
    {
        var (index, suffix) = XattrBlock.Split(name);
        lock (_gate)
        {
            var (entries, _) = Writable(c, node, name, index, admin);
            if (entries.RemoveAll(e => e.Index == index && e.Name.AsSpan().SequenceEqual(suffix)) == 0)
            {
                throw NoData(Encoding.UTF8.GetString(name), node.Ino);
            }

            _writer.Change(() => Store(node.Ino, entries, c.Slot));
        }
    }

    /// <summary>The checks every change makes (peer slot, live inode of that generation, permission); the inode's entries and a description for messages. The zone's lock is held.</summary>
    private (List<XattrEntry> Entries, string What) Writable(Caller c, NodeRef node, ReadOnlySpan<byte> name, int index, bool admin)
    {
        _peers.Check(c.Slot);
        var inode = _inodes.LoadNode(node);
        string what = Describe(name, node.Ino);
        RequireMayWrite(c, index, node.Ino, inode, admin, what);
        return (Entries(node.Ino, inode), what);
    }

    /// <summary>Frees the inode's block, if any; inside a change (the inode's last link went, or fsck repairs it).</summary>
    internal void FreeBlock(ulong ino)
    {
        ref var w = ref _inodes.ForWrite(ino);
        if (w.Xattr != 0)
        {
            _allocator.FreePages(_geometry.PageIndex(RequireBlock(ino, w.Xattr)), 1);
            w.Pages--;
            w.Xattr = 0;
        }
    }

    /// <summary>The inode's entries, decoded from a copy of its block and checked; empty when it has none.</summary>
    internal List<XattrEntry> Entries(ulong ino, in SgzInode inode)
    {
        if (inode.Xattr == 0)
        {
            return [];
        }

        var block = _memory.Span(RequireBlock(ino, inode.Xattr), SgzAbi.XattrBlockSize).ToArray();
        return XattrBlock.Decode(block, ino, inode.Generation, _path);
    }

    /// <summary>The block's zone offset, checked to be one page of the structure pool.</summary>
    internal ulong RequireBlock(ulong ino, ulong offset)
    {
        if (offset < _geometry.Data.Offset || offset % ZoneGeometry.PageSize != 0 || !_geometry.IsPoolPage(_geometry.PageIndex(offset)))
        {
            throw new ZoneCorruptException($"{_path}: inode {ino} names an xattr block at zone offset 0x{offset:x}, not a page of the structure pool");
        }

        return offset;
    }

    /// <summary>Writes <paramref name="entries"/> as the inode's block (taking a pool page for a first one), or frees the block when none is left; inside a change.</summary>
    private void Store(ulong ino, List<XattrEntry> entries, int slot)
    {
        // The seqcount first: a guest that copies the block under it sees the block whole or retries.
        ref var w = ref _inodes.ForWrite(ino);
        w.CtimeNs = ZoneClock.NowNs();
        if (entries.Count == 0)
        {
            FreeBlock(ino);
            return;
        }

        if (w.Xattr == 0)
        {
            w.Xattr = _geometry.PageOffset(_allocator.AllocatePage(slot, Allocator.NoChunk, PageKind.Pool));
            w.Pages++;
        }

        XattrBlock.Encode(_writer.BytesForWrite(RequireBlock(ino, w.Xattr), SgzAbi.XattrBlockSize), entries, ino, w.Generation);
    }

    private static void RequireMayWrite(Caller c, int index, ulong ino, in SgzInode inode, bool admin, string what)
    {
        switch (index)
        {
            case SgzAbi.XattrTrusted when !admin:
                throw new ZoneException(ZoneError.NotPermitted, $"{what}: trusted.* needs CAP_SYS_ADMIN");
            case SgzAbi.XattrSecurity when !admin && !Permissions.IsOwner(c, inode):
                throw new ZoneException(ZoneError.NotPermitted, $"{what}: security.* needs CAP_SYS_ADMIN or the inode's owner (uid {inode.Uid}), not uid {c.Uid}");
            case SgzAbi.XattrUser:
                uint type = inode.Mode & SgzAbi.SIfmt;
                if (type is not (SgzAbi.SIfreg or SgzAbi.SIfdir))
                {
                    throw new ZoneException(ZoneError.NotPermitted, $"{what}: user.* attributes are kept on regular files and directories only");
                }

                if (type == SgzAbi.SIfdir && (inode.Mode & Permissions.Sticky) != 0 && !admin && !Permissions.IsOwner(c, inode))
                {
                    throw new ZoneException(ZoneError.NotPermitted, $"{what}: the directory is sticky and uid {c.Uid} does not own it");
                }

                Permissions.RequireMay(c, ino, inode, Permissions.MayWrite, what);
                break;
        }
    }

    private static ZoneException NoData(string name, ulong ino) => new(ZoneError.NoData, $"inode {ino} has no xattr '{name}'");

    private static string Describe(ReadOnlySpan<byte> name, ulong ino) => $"xattr '{Encoding.UTF8.GetString(name)}' of inode {ino}";
}
