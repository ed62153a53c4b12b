using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The namespace rules, one core per change (make, link, unlink, rmdir, rename): what
/// <see cref="Names"/> runs for a guest's request and for a host path alike, so both obey
/// one set of rules. Every check runs before the change starts; a refused operation
/// changes nothing. A regular file's last name going is decided by <see cref="Orphans"/>.
/// Called with the zone's lock held; the caller has loaded the directories as live.
/// </summary>
internal sealed class NamespaceRules(string path, ZoneGeometry geometry, ZoneMemory memory, ZoneWriter writer, InodeTable inodes, PageTables tables, Directories dirs, Orphans orphans, InodeReclaimer reclaimer)
{
    /// <summary>Most names one inode may have, and most subdirectories one directory may hold.</summary>
    private const uint MaxLinks = 65000;

    /// <summary>The one way an inode gets another name: not a directory, not unlinked, under the link limit.</summary>
    public void Link(Caller c, ulong dir, SgzInode d, byte[] name, ulong ino, SgzInode t, string what)
    {
        if (InodeTable.IsDirectory(t))
        {
            throw new ZoneException(ZoneError.NotPermitted, $"{what}: inode {ino} is a directory; directories cannot be hard-linked");
        }

        bool tmpfile = (t.Flags & SgzAbi.InodeTmpfile) != 0;
        if (t.Nlink == 0 && !tmpfile)
        {
            throw new ZoneException(ZoneError.NotFound, $"{what}: inode {ino} has been unlinked");
        }

        if (t.Nlink >= MaxLinks)
        {
            throw new ZoneException(ZoneError.TooManyLinks, $"{what}: inode {ino} already has {t.Nlink} names");
        }

        Permissions.RequireMay(c, dir, d, Permissions.MayWrite | Permissions.MayExec, what);
        RequireAbsent(dir, name, what);
        writer.Change(() =>
        {
            dirs.AddEntry(dir, name, ino, InodeTable.TypeOf(t.Mode), c.Slot);
            ulong ctime = inodes.ChangeTime(ino);
            ref var w = ref inodes.ForWrite(ino);
            w.Nlink++;
            w.CtimeNs = ctime;
            if (tmpfile)
            {
                // An O_TMPFILE's first name: a file like any other from now on.
                w.Flags &= ~(SgzAbi.InodeOrphan | SgzAbi.InodeTmpfile);
                orphans.Named(ino);
            }
        });
    }

    /// <summary>An O_TMPFILE for <paramref name="c"/> in <paramref name="dir"/> (whose write and search permission it needs, and whose set-group-id it follows). Returns its inode.</summary>
    public ulong MakeTmpfile(Caller c, ulong dir, uint mode, string what)
    {
        var d = inodes.LoadLive(dir);
        Permissions.RequireMay(c, dir, d, Permissions.MayWrite | Permissions.MayExec, what);
        uint gid = (d.Mode & Permissions.SetGid) != 0 ? d.Gid : c.Gid;
        return writer.Change(() =>
        {
            ulong ino = inodes.Allocate(SgzAbi.SIfreg | (mode & Permissions.PermissionBits), c.Uid, gid, 0);
            ref var w = ref inodes.ForWrite(ino);
            w.Nlink = 0;
            w.Flags = SgzAbi.InodeOrphan | SgzAbi.InodeTmpfile;
            orphans.MadeTmpfile(ino, c.Slot);
            return ino;
        });
    }

    /// <summary>True if <paramref name="dir"/> is <paramref name="ancestor"/> or below it (walks parents, bounded by the inode count).</summary>
    private bool IsWithin(ulong dir, ulong ancestor)
    {
        for (ulong steps = 0, ino = dir; steps < geometry.InodeCount; steps++)
        {
            if (ino == ancestor)
            {
                return true;
            }

            if (ino == SgzAbi.RootIno)
            {
                return false;
            }

            ino = inodes.LoadLive(ino).Parent;
        }

        throw new ZoneCorruptException($"{path}: directory parents of inode {dir} form a loop");
    }

    public static void RequireDirectory(ulong ino, in SgzInode inode, string path)
    {
        if (!InodeTable.IsDirectory(inode))
        {
            throw new ZoneException(ZoneError.NotDirectory, $"{path}: not a directory (inode {ino})");
        }
    }

    public static ZoneException NotFound(string path) => new(ZoneError.NotFound, $"{path}: no such file or directory");

    public void RequireAbsent(ulong dir, byte[] name, string what)
    {
        if (dirs.FindEntry(dir, name) is not null)
        {
            throw new ZoneException(ZoneError.Exists, $"{what}: already exists");
        }
    }

    /// <summary>The one way a name and its new inode are made; <paramref name="uid"/>/<paramref name="gid"/> own it unless the directory is set-group-id.</summary>
    public ulong Make(Caller c, ulong dir, byte[] name, uint mode, ReadOnlySpan<byte> target, uint uid, uint gid, string what, ulong rdev = 0)
    {
        uint type = mode & SgzAbi.SIfmt;
        if (type is not (SgzAbi.SIfreg or SgzAbi.SIfdir or SgzAbi.SIfifo or SgzAbi.SIfsock or SgzAbi.SIflnk or SgzAbi.SIfchr or SgzAbi.SIfblk))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{what}: type 0{Convert.ToString(type, 8)} cannot be made here");
        }

        if (rdev != 0 && type is not (SgzAbi.SIfchr or SgzAbi.SIfblk))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{what}: only a device node has a device number");
        }

        if (type == SgzAbi.SIflnk && (target.Length == 0 || target.Length > SgzAbi.SymlinkTargetMax))
        {
            throw new ZoneException(target.Length == 0 ? ZoneError.InvalidArgument : ZoneError.NameTooLong,
                $"{what}: a symbolic link target is 1..{SgzAbi.SymlinkTargetMax} bytes, not {target.Length}");
        }

        if (type != SgzAbi.SIflnk && target.Length != 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{what}: only a symbolic link has a target");
        }

        var d = inodes.LoadLive(dir);
        Permissions.RequireMay(c, dir, d, Permissions.MayWrite | Permissions.MayExec, what);
        RequireAbsent(dir, name, what);
        bool isDir = type == SgzAbi.SIfdir;
        if (isDir && d.Nlink >= MaxLinks)
        {
            throw new ZoneException(ZoneError.TooManyLinks, $"{what}: the directory already holds {d.Nlink - 2} directories");
        }

        uint bits = type == SgzAbi.SIflnk ? 0x1ffu : mode & Permissions.PermissionBits;
        if ((d.Mode & Permissions.SetGid) != 0)
        {
            gid = d.Gid;
            bits |= isDir ? Permissions.SetGid : 0;
        }

        byte[] text = target.ToArray();
        return writer.Change(() =>
        {
            ulong ino = inodes.Allocate(type | bits, uid, gid, isDir ? dir : 0);
            inodes.ForWrite(ino).Nlink = isDir ? 2u : 1u;
            inodes.ForWrite(ino).Rdev = rdev;
            if (text.Length > 0)
            {
                WriteLinkTarget(ino, text, c.Slot);
            }

            dirs.AddEntry(dir, name, ino, InodeTable.TypeOf(type), c.Slot);
            if (isDir)
            {
                inodes.ForWrite(dir).Nlink++;
            }

            return ino;
        });
    }

    private void WriteLinkTarget(ulong ino, byte[] text, int slot)
    {
        tables.Populate(ino, 0, (ulong)text.Length, slot, _ => false);
        var extent = tables.MapAllocated(ino, inodes.Load(ino), 0);
        writer.BytesForWrite(extent.ZoneOffset, (ulong)text.Length);
        text.CopyTo(memory.Span(extent.ZoneOffset, (ulong)text.Length));
        inodes.ForWrite(ino).Size = (ulong)text.Length;
    }

    public void Unlink(Caller c, ulong dir, byte[] name, string what)
    {
        var slot = dirs.FindEntry(dir, name) ?? throw NotFound(what);
        var inode = inodes.LoadLive(slot.Entry.Ino);
        if (InodeTable.IsDirectory(inode))
        {
            throw new ZoneException(ZoneError.IsDirectory, $"{what}: is a directory (use rmdir)");
        }

        Permissions.RequireMayRemove(c, dir, inodes.LoadLive(dir), inode, what);
        writer.Change(() =>
        {
            dirs.RemoveEntry(dir, slot);
            DropLink(slot.Entry.Ino);
        });
    }

    public void RemoveDirectory(Caller c, ulong dir, byte[] name, string what)
    {
        var slot = dirs.FindEntry(dir, name) ?? throw NotFound(what);
        ulong ino = slot.Entry.Ino;
        var inode = inodes.LoadLive(ino);
        RequireDirectory(ino, inode, what);
        if (inode.Entries != 0)
        {
            throw new ZoneException(ZoneError.NotEmpty, $"{what}: directory not empty ({inode.Entries} entries)");
        }

        Permissions.RequireMayRemove(c, dir, inodes.LoadLive(dir), inode, what);
        writer.Change(() =>
        {
            dirs.RemoveEntry(dir, slot);
            reclaimer.Free(ino);
            inodes.ForWrite(dir).Nlink--;
        });
    }

    public void Rename(Caller c, ulong srcDir, byte[] srcName, ulong dstDir, byte[] dstName, uint flags, string from, string to)
    {
        if ((flags & ~SgzAbi.RenameKnown) != 0 || flags == SgzAbi.RenameKnown)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"rename {from}: flags 0x{flags:x} (NOREPLACE 1 or EXCHANGE 2, not both)");
        }

        bool exchange = flags == SgzAbi.RenameExchange;
        var src = dirs.FindEntry(srcDir, srcName) ?? throw NotFound(from);
        ulong ino = src.Entry.Ino;
        var moving = inodes.LoadLive(ino);
        bool isDir = InodeTable.IsDirectory(moving);
        var dst = dirs.FindEntry(dstDir, dstName);
        if (dst is not null && flags == SgzAbi.RenameNoreplace)
        {
            throw new ZoneException(ZoneError.Exists, $"{to}: already exists");
        }

        if (dst is null && exchange)
        {
            throw NotFound(to);
        }

        var sd = inodes.LoadLive(srcDir);
        var dd = inodes.LoadLive(dstDir);
        Permissions.RequireMay(c, srcDir, sd, Permissions.MayWrite | Permissions.MayExec, from);
        Permissions.RequireMay(c, dstDir, dd, Permissions.MayWrite | Permissions.MayExec, to);
        Permissions.RequireStickyOwner(c, sd, moving, from);
        ulong other = dst?.Entry.Ino ?? 0;
        var replaced = dst is null ? default : inodes.LoadLive(other);
        if (dst is not null)
        {
            Permissions.RequireStickyOwner(c, dd, replaced, to);
        }

        if (other == ino)
        {
            return;
        }

        bool otherIsDir = dst is not null && InodeTable.IsDirectory(replaced);
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
                Permissions.RequireMay(c, ino, moving, Permissions.MayWrite, from);
            }

            if (exchange && otherIsDir)
            {
                Permissions.RequireMay(c, other, replaced, Permissions.MayWrite, to);
            }

            if (isDir && dst is null && dd.Nlink >= MaxLinks)
            {
                throw new ZoneException(ZoneError.TooManyLinks, $"{to}: the directory already holds {dd.Nlink - 2} directories");
            }
        }

        writer.Change(() =>
        {
            ulong now = ZoneClock.NowNs();
            if (exchange)
            {
                dirs.RetargetEntry(srcDir, src, other, dst!.Value.Entry.Type);
                dirs.RetargetEntry(dstDir, dst.Value, ino, src.Entry.Type);
                inodes.ForWrite(other).CtimeNs = Math.Max(now, inodes.ChangeTime(other));
                if (otherIsDir && srcDir != dstDir)
                {
                    Reparent(other, dstDir, srcDir);
                }
            }
            else
            {
                if (dst is { } old)
                {
                    dirs.RetargetEntry(dstDir, old, ino, src.Entry.Type);
                    if (otherIsDir)
                    {
                        reclaimer.Free(other);
                        inodes.ForWrite(dstDir).Nlink--;
                    }
                    else
                    {
                        DropLink(other);
                    }
                }
                else
                {
                    dirs.AddEntry(dstDir, dstName, ino, src.Entry.Type, c.Slot);
                }

                // Find the source again: the destination's changes may have rewritten the directory.
                var again = dirs.FindEntry(srcDir, srcName) ?? throw new InvalidOperationException("source entry vanished during rename");
                dirs.RemoveEntry(srcDir, again);
            }

            inodes.ForWrite(ino).CtimeNs = Math.Max(now, inodes.ChangeTime(ino));
            if (isDir && srcDir != dstDir)
            {
                Reparent(ino, srcDir, dstDir);
            }
        });
    }

    /// <summary>A directory moved from one parent to another: its parent field and both parents' link counts; inside a change.</summary>
    private void Reparent(ulong dir, ulong from, ulong to)
    {
        inodes.ForWrite(dir).Parent = to;
        inodes.ForWrite(from).Nlink--;
        inodes.ForWrite(to).Nlink++;
    }

    /// <summary>One fewer name for a non-directory; at zero the orphan rule decides (<see cref="Orphans"/>). Inside a change.</summary>
    private void DropLink(ulong ino)
    {
        ulong ctime = inodes.ChangeTime(ino);
        ref var inode = ref inodes.ForWrite(ino);
        inode.Nlink--;
        inode.CtimeNs = ctime;
        if (inode.Nlink == 0)
        {
            orphans.LastNameGone(ino, ref inode);
        }
    }
}
