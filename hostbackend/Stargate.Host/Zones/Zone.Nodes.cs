using System.Text;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zone;

/// <summary>
/// Namespace changes by inode (what a guest's request names): make, link, unlink,
/// rmdir, rename. The path-based host methods resolve their path and run the same
/// cores (the *In methods) as the host caller, so both obey one set of rules. Every
/// check runs before the change starts; a refused operation changes nothing.
/// </summary>
public sealed partial class Zone
{
    /// <summary>Most names one inode may have, and most subdirectories one directory may hold.</summary>
    private const uint MaxLinks = 65000;

    /// <summary>Longest symbolic link target (the request's name2 field).</summary>
    private const int MaxLinkTarget = 768;

    /// <summary>
    /// Whether some peer has inode (ino, generation) open (installed by the request server
    /// over the live peers' open tables); null = nobody has anything open. Asked when a
    /// regular file loses its last name: an open one is kept as an orphan.
    /// </summary>
    public Func<ulong, uint, bool>? IsOpen { get; set; }

    /// <summary>Makes a regular file, directory, fifo, socket or symbolic link (its target is its data) named <paramref name="name"/> in <paramref name="dir"/>.</summary>
    public NodeRef MakeNode(Caller c, NodeRef dir, ReadOnlySpan<byte> name, uint mode, ReadOnlySpan<byte> target)
    {
        byte[] n = CheckName(name);
        CheckSlot(c.Slot);
        lock (Sync)
        {
            LoadDirectory(dir);
            ulong ino = MakeNodeIn(c, dir.Ino, n, mode, target, c.Uid, c.Gid, Describe(dir.Ino, n));
            return new NodeRef(ino, LoadInode(ino).Generation);
        }
    }

    /// <summary>Gives <paramref name="target"/> (not a directory, not an orphan) one more name.</summary>
    public NodeRef Link(Caller c, NodeRef dir, ReadOnlySpan<byte> name, NodeRef target)
    {
        byte[] n = CheckName(name);
        CheckSlot(c.Slot);
        lock (Sync)
        {
            var d = LoadDirectory(dir);
            var t = LoadNode(target);
            string what = Describe(dir.Ino, n);
            if (IsDirectory(t))
            {
                throw new ZoneException(ZoneError.NotPermitted, $"{what}: inode {target.Ino} is a directory; directories cannot be hard-linked");
            }

            if (t.Nlink == 0)
            {
                throw new ZoneException(ZoneError.NotFound, $"{what}: inode {target.Ino} has been unlinked");
            }

            if (t.Nlink >= MaxLinks)
            {
                throw new ZoneException(ZoneError.TooManyLinks, $"{what}: inode {target.Ino} already has {t.Nlink} names");
            }

            RequireMay(c, dir.Ino, d, MayWrite | MayExec, what);
            RequireAbsent(dir.Ino, n, what);
            Change(() =>
            {
                AddEntry(dir.Ino, n, target.Ino, TypeOf(t.Mode), c.Slot);
                ref var w = ref InodeForWrite(target.Ino);
                w.Nlink++;
                w.CtimeNs = ZoneClock.NowNs();
            });
            return target;
        }
    }

    public void Unlink(Caller c, NodeRef dir, ReadOnlySpan<byte> name)
    {
        byte[] n = CheckName(name);
        lock (Sync)
        {
            LoadDirectory(dir);
            UnlinkIn(c, dir.Ino, n, Describe(dir.Ino, n));
        }
    }

    public void RemoveDirectory(Caller c, NodeRef dir, ReadOnlySpan<byte> name)
    {
        byte[] n = CheckName(name);
        lock (Sync)
        {
            LoadDirectory(dir);
            RemoveDirectoryIn(c, dir.Ino, n, Describe(dir.Ino, n));
        }
    }

    /// <summary>rename(2) with flags SGZ_RENAME_NOREPLACE or SGZ_RENAME_EXCHANGE (not both).</summary>
    public void Rename(Caller c, NodeRef srcDir, ReadOnlySpan<byte> srcName, NodeRef dstDir, ReadOnlySpan<byte> dstName, uint flags)
    {
        byte[] from = CheckName(srcName);
        byte[] to = CheckName(dstName);
        CheckSlot(c.Slot);
        lock (Sync)
        {
            LoadDirectory(srcDir);
            LoadDirectory(dstDir);
            RenameIn(c, srcDir.Ino, from, dstDir.Ino, to, flags, Describe(srcDir.Ino, from), Describe(dstDir.Ino, to));
        }
    }

    /// <summary>A symbolic link's target (its data bytes).</summary>
    public byte[] ReadLink(ulong ino)
    {
        lock (Sync)
        {
            var inode = LoadLiveInode(ino);
            if ((inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIflnk)
            {
                throw new ZoneException(ZoneError.InvalidArgument, $"inode {ino} is not a symbolic link");
            }

            if (inode.Size == 0 || inode.Size > MaxLinkTarget)
            {
                throw new ZoneCorruptException($"{Path}: symbolic link inode {ino} has size {inode.Size} (1..{MaxLinkTarget})");
            }

            byte[] target = new byte[inode.Size];
            for (ulong pos = 0; pos < inode.Size;)
            {
                var extent = Map(ino, inode, pos);
                ulong n = Math.Min(extent.Length, inode.Size - pos);
                if (extent.IsHole)
                {
                    throw new ZoneCorruptException($"{Path}: symbolic link inode {ino} has a hole at {pos}");
                }

                _memory.Span(extent.ZoneOffset, n).CopyTo(target.AsSpan((int)pos));
                pos += n;
            }

            return target;
        }
    }

    /// <summary>An inode that must be live and of the generation the caller knows (else Stale).</summary>
    internal SgzInode LoadNode(NodeRef node)
    {
        if (node.Ino == 0 || node.Ino >= Geometry.InodeCount)
        {
            throw new ZoneException(ZoneError.Stale, $"inode {node.Ino} is outside the table (1..{Geometry.InodeCount - 1})");
        }

        var inode = LoadInode(node.Ino);
        if (inode.Mode == 0 || !IsInodeUsed(node.Ino))
        {
            throw new ZoneException(ZoneError.Stale, $"inode {node.Ino} is free");
        }

        if (inode.Generation != node.Generation)
        {
            throw new ZoneException(ZoneError.Stale, $"inode {node.Ino} is at generation {inode.Generation}, not {node.Generation}");
        }

        return LoadLiveInode(node.Ino);
    }

    private SgzInode LoadDirectory(NodeRef dir)
    {
        var inode = LoadNode(dir);
        RequireDirectory(dir.Ino, inode, $"directory inode {dir.Ino}");
        return inode;
    }

    private static string Describe(ulong dir, byte[] name) => $"'{Encoding.UTF8.GetString(name)}' in directory inode {dir}";

    private void RequireAbsent(ulong dir, byte[] name, string what)
    {
        if (FindEntry(dir, name) is not null)
        {
            throw new ZoneException(ZoneError.Exists, $"{what}: already exists");
        }
    }

    /// <summary>The one way a name and its new inode are made; <paramref name="uid"/>/<paramref name="gid"/> own it unless the directory is set-group-id.</summary>
    private ulong MakeNodeIn(Caller c, ulong dir, byte[] name, uint mode, ReadOnlySpan<byte> target, uint uid, uint gid, string what)
    {
        uint type = mode & SgzAbi.SIfmt;
        if (type is not (SgzAbi.SIfreg or SgzAbi.SIfdir or SgzAbi.SIfifo or SgzAbi.SIfsock or SgzAbi.SIflnk))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{what}: type 0{Convert.ToString(type, 8)} cannot be made here");
        }

        if (type == SgzAbi.SIflnk && (target.Length == 0 || target.Length > MaxLinkTarget))
        {
            throw new ZoneException(target.Length == 0 ? ZoneError.InvalidArgument : ZoneError.NameTooLong,
                $"{what}: a symbolic link target is 1..{MaxLinkTarget} bytes, not {target.Length}");
        }

        if (type != SgzAbi.SIflnk && target.Length != 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{what}: only a symbolic link has a target");
        }

        var d = LoadLiveInode(dir);
        RequireMay(c, dir, d, MayWrite | MayExec, what);
        RequireAbsent(dir, name, what);
        bool isDir = type == SgzAbi.SIfdir;
        if (isDir && d.Nlink >= MaxLinks)
        {
            throw new ZoneException(ZoneError.TooManyLinks, $"{what}: the directory already holds {d.Nlink - 2} directories");
        }

        uint bits = type == SgzAbi.SIflnk ? 0x1ffu : mode & PermissionBits;
        if ((d.Mode & SetGid) != 0)
        {
            gid = d.Gid;
            bits |= isDir ? SetGid : 0;
        }

        byte[] text = target.ToArray();
        return Change(() =>
        {
            ulong ino = AllocateInode(type | bits, uid, gid, isDir ? dir : 0);
            InodeForWrite(ino).Nlink = isDir ? 2u : 1u;
            if (text.Length > 0)
            {
                WriteLinkTarget(ino, text, c.Slot);
            }

            AddEntry(dir, name, ino, TypeOf(type), c.Slot);
            if (isDir)
            {
                InodeForWrite(dir).Nlink++;
            }

            return ino;
        });
    }

    private void WriteLinkTarget(ulong ino, byte[] text, int slot)
    {
        Populate(ino, 0, (ulong)text.Length, slot, _ => false);
        var extent = Map(ino, LoadInode(ino), 0);
        BytesForWrite(extent.ZoneOffset, (ulong)text.Length);
        text.CopyTo(_memory.Span(extent.ZoneOffset, (ulong)text.Length));
        InodeForWrite(ino).Size = (ulong)text.Length;
    }

    private void UnlinkIn(Caller c, ulong dir, byte[] name, string what)
    {
        var slot = FindEntry(dir, name) ?? throw NotFound(what);
        var inode = LoadLiveInode(slot.Entry.Ino);
        if (IsDirectory(inode))
        {
            throw new ZoneException(ZoneError.IsDirectory, $"{what}: is a directory (use rmdir)");
        }

        RequireMayRemove(c, dir, inode, what);
        Change(() =>
        {
            RemoveEntry(dir, slot);
            DropLink(slot.Entry.Ino);
        });
    }

    private void RemoveDirectoryIn(Caller c, ulong dir, byte[] name, string what)
    {
        var slot = FindEntry(dir, name) ?? throw NotFound(what);
        ulong ino = slot.Entry.Ino;
        var inode = LoadLiveInode(ino);
        RequireDirectory(ino, inode, what);
        if (inode.Entries != 0)
        {
            throw new ZoneException(ZoneError.NotEmpty, $"{what}: directory not empty ({inode.Entries} entries)");
        }

        RequireMayRemove(c, dir, inode, what);
        Change(() =>
        {
            RemoveEntry(dir, slot);
            FreeInode(ino);
            InodeForWrite(dir).Nlink--;
        });
    }

    private void RenameIn(Caller c, ulong srcDir, byte[] srcName, ulong dstDir, byte[] dstName, uint flags, string from, string to)
    {
        const uint Known = SgzAbi.RenameNoreplace | SgzAbi.RenameExchange;
        if ((flags & ~Known) != 0 || flags == Known)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"rename {from}: flags 0x{flags:x} (NOREPLACE 1 or EXCHANGE 2, not both)");
        }

        bool exchange = flags == SgzAbi.RenameExchange;
        var src = FindEntry(srcDir, srcName) ?? throw NotFound(from);
        ulong ino = src.Entry.Ino;
        var moving = LoadLiveInode(ino);
        bool isDir = IsDirectory(moving);
        var dst = FindEntry(dstDir, dstName);
        if (dst is not null && flags == SgzAbi.RenameNoreplace)
        {
            throw new ZoneException(ZoneError.Exists, $"{to}: already exists");
        }

        if (dst is null && exchange)
        {
            throw NotFound(to);
        }

        var sd = LoadLiveInode(srcDir);
        var dd = LoadLiveInode(dstDir);
        RequireMay(c, srcDir, sd, MayWrite | MayExec, from);
        RequireMay(c, dstDir, dd, MayWrite | MayExec, to);
        RequireStickyOwner(c, sd, moving, from);
        ulong other = dst?.Entry.Ino ?? 0;
        var replaced = dst is null ? default : LoadLiveInode(other);
        if (dst is not null)
        {
            RequireStickyOwner(c, dd, replaced, to);
        }

        if (other == ino)
        {
            return;
        }

        bool otherIsDir = dst is not null && IsDirectory(replaced);
        if ((isDir && IsWithin(dstDir, ino)) || (exchange && otherIsDir && IsWithin(srcDir, other)))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"cannot move {from} into itself ({to})");
        }

        if (!exchange && dst is not null)
        {
            if (isDir && !otherIsDir)
            {
                throw new ZoneException(ZoneError.NotDirectory, $"{to}: not a directory (cannot replace a file with directory {from})");
            }

            if (!isDir && otherIsDir)
            {
                throw new ZoneException(ZoneError.IsDirectory, $"{to}: is a directory (cannot replace it with file {from})");
            }

            if (isDir && replaced.Entries != 0)
            {
                throw new ZoneException(ZoneError.NotEmpty, $"{to}: directory not empty");
            }
        }

        // A directory that changes parent is itself changed (its parent field): rename(2) asks write permission on it.
        if (srcDir != dstDir)
        {
            if (isDir)
            {
                RequireMay(c, ino, moving, MayWrite, from);
            }

            if (exchange && otherIsDir)
            {
                RequireMay(c, other, replaced, MayWrite, to);
            }

            if (isDir && dst is null && dd.Nlink >= MaxLinks)
            {
                throw new ZoneException(ZoneError.TooManyLinks, $"{to}: the directory already holds {dd.Nlink - 2} directories");
            }
        }

        Change(() =>
        {
            ulong now = ZoneClock.NowNs();
            if (exchange)
            {
                RetargetEntry(srcDir, src, other, dst!.Value.Entry.Type);
                RetargetEntry(dstDir, dst.Value, ino, src.Entry.Type);
                InodeForWrite(other).CtimeNs = now;
                if (otherIsDir && srcDir != dstDir)
                {
                    Reparent(other, dstDir, srcDir);
                }
            }
            else
            {
                if (dst is { } old)
                {
                    RetargetEntry(dstDir, old, ino, src.Entry.Type);
                    if (otherIsDir)
                    {
                        FreeInode(other);
                        InodeForWrite(dstDir).Nlink--;
                    }
                    else
                    {
                        DropLink(other);
                    }
                }
                else
                {
                    AddEntry(dstDir, dstName, ino, src.Entry.Type, c.Slot);
                }

                // Find the source again: the destination's changes may have rewritten the directory.
                var again = FindEntry(srcDir, srcName) ?? throw new InvalidOperationException("source entry vanished during rename");
                RemoveEntry(srcDir, again);
            }

            InodeForWrite(ino).CtimeNs = now;
            if (isDir && srcDir != dstDir)
            {
                Reparent(ino, srcDir, dstDir);
            }
        });
    }

    /// <summary>A directory moved from one parent to another: its parent field and both parents' link counts; inside a change.</summary>
    private void Reparent(ulong dir, ulong from, ulong to)
    {
        InodeForWrite(dir).Parent = to;
        InodeForWrite(from).Nlink--;
        InodeForWrite(to).Nlink++;
    }

    /// <summary>
    /// One fewer name for a non-directory. At zero a regular file that some peer has open
    /// is kept as an orphan (nlink 0, SGZ_INODE_ORPHAN, no entry); anything else is freed.
    /// Inside a change.
    /// </summary>
    private void DropLink(ulong ino)
    {
        ref var inode = ref InodeForWrite(ino);
        inode.Nlink--;
        inode.CtimeNs = ZoneClock.NowNs();
        if (inode.Nlink != 0)
        {
            return;
        }

        if ((inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfreg && IsOpen?.Invoke(ino, inode.Generation) == true)
        {
            inode.Flags |= SgzAbi.InodeOrphan;
            KnownOrphans().Add(ino);
        }
        else
        {
            FreeInode(ino);
        }
    }
}
