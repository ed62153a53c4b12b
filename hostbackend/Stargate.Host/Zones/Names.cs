using System.Text;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// Names: lookups, and the namespace changes (make, link, unlink, rmdir, rename) by inode
/// (what a guest's request names) and by path (the host's own callers). Paths are
/// '/'-separated and relative to the zone's root whether or not they start with '/'; "."
/// and ".." work; symbolic links are not followed. Both kinds of caller run the same cores
/// (the *In methods), so both obey one set of rules; every check runs before the change
/// starts, so a refused operation changes nothing, and each change is atomic. Public
/// members take the zone's lock.
/// </summary>
public sealed class Names
{
    private const uint DefaultFileMode = 0x1a4; // 0644
    internal const uint DefaultDirMode = 0x1ed;  // 0755

    /// <summary>Most names one inode may have, and most subdirectories one directory may hold.</summary>
    private const uint MaxLinks = 65000;

    private readonly string _path;
    private readonly ZoneMemory _memory;
    private readonly ZoneGeometry _geometry;
    private readonly ZoneWriter _writer;
    private readonly InodeTable _inodes;
    private readonly PageTables _tables;
    private readonly Directories _dirs;
    private readonly Orphans _orphans;
    private readonly InodeReclaimer _reclaimer;
    private readonly PeerTable _peers;
    private readonly Lock _gate;

    internal Names(
        string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, InodeTable inodes, PageTables tables,
        Directories dirs, Orphans orphans, InodeReclaimer reclaimer, PeerTable peers, Lock gate)
    {
        _path = path;
        _memory = memory;
        _geometry = geometry;
        _writer = writer;
        _inodes = inodes;
        _tables = tables;
        _dirs = dirs;
        _orphans = orphans;
        _reclaimer = reclaimer;
        _peers = peers;
        _gate = gate;
    }

    public ulong Resolve(string path)
    {
        lock (_gate)
        {
            ulong ino = SgzAbi.RootIno;
            foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                ino = Step(ino, part, path);
            }

            _inodes.LoadLive(ino);
            return ino;
        }
    }

    public InodeInfo Stat(string path) => StatInode(Resolve(path));

    public InodeInfo StatInode(ulong ino)
    {
        lock (_gate)
        {
            return InodeInfo.From(ino, _inodes.LoadLive(ino));
        }
    }

    public IReadOnlyList<DirectoryEntry> ReadDirectory(ulong dirIno)
    {
        lock (_gate)
        {
            RequireDirectory(dirIno, _inodes.LoadLive(dirIno), "read");
            return _dirs.List(dirIno);
        }
    }

    public IReadOnlyList<DirectoryEntry> ReadDirectory(string path) => ReadDirectory(Resolve(path));

    public ulong CreateFile(string path, uint mode = DefaultFileMode) =>
        CreateNode(path, SgzAbi.SIfreg | (mode & SgzAbi.SIallugo));

    public ulong MakeDirectory(string path, uint mode = DefaultDirMode) =>
        CreateNode(path, SgzAbi.SIfdir | (mode & SgzAbi.SIallugo));

    /// <summary>mkdir -p: makes each missing directory on the path; fine if the whole path exists as a directory.</summary>
    public ulong MakeDirectories(string path)
    {
        lock (_gate)
        {
            ulong ino = SgzAbi.RootIno;
            string sofar = string.Empty;
            foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                sofar += "/" + part;
                var dir = _inodes.LoadLive(ino);
                RequireDirectory(ino, dir, sofar);
                var found = part is "." or ".." ? null : _dirs.FindEntry(ino, Directories.CheckName(part));
                ino = found is null && part is not "." and not ".." ? MakeDirectory(sofar) : Step(ino, part, sofar);
            }

            RequireDirectory(ino, _inodes.LoadLive(ino), path);
            return ino;
        }
    }

    public void Unlink(string path)
    {
        lock (_gate)
        {
            var (dir, name) = ResolveParent(path);
            UnlinkIn(Caller.Host, dir, name, path);
        }
    }

    public void RemoveDirectory(string path)
    {
        lock (_gate)
        {
            var (dir, name) = ResolveParent(path);
            RemoveDirectoryIn(Caller.Host, dir, name, path);
        }
    }

    /// <summary>
    /// rename(2): moves <paramref name="from"/> to <paramref name="to"/>, replacing
    /// a file there, or an empty directory when <paramref name="from"/> is one.
    /// </summary>
    public void Rename(string from, string to)
    {
        lock (_gate)
        {
            var (srcDir, srcName) = ResolveParent(from);
            var (dstDir, dstName) = ResolveParent(to);
            RenameIn(Caller.Host, srcDir, srcName, dstDir, dstName, 0, from, to);
        }
    }

    private ulong CreateNode(string path, uint mode)
    {
        lock (_gate)
        {
            var (dir, name) = ResolveParent(path);
            return MakeNodeIn(Caller.Host, dir, name, mode, [], Libc.Getuid(), Libc.Getgid(), path);
        }
    }

    private (ulong Dir, byte[] Name) ResolveParent(string path)
    {
        string trimmed = path.TrimEnd('/');
        int cut = trimmed.LastIndexOf('/');
        string parent = cut < 0 ? string.Empty : trimmed[..cut];
        string leaf = cut < 0 ? trimmed : trimmed[(cut + 1)..];
        if (leaf.Length == 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"'{path}' names the root directory, which cannot be created, moved or removed");
        }

        byte[] name = Directories.CheckName(leaf);
        ulong dir = Resolve(parent);
        RequireDirectory(dir, _inodes.LoadLive(dir), parent.Length == 0 ? "/" : parent);
        return (dir, name);
    }

    private ulong Step(ulong dir, string part, string path)
    {
        var inode = _inodes.LoadLive(dir);
        RequireDirectory(dir, inode, path);
        return part switch
        {
            "." => dir,
            ".." => inode.Parent,
            _ => (_dirs.FindEntry(dir, Directories.CheckName(part)) ?? throw NotFound(path)).Entry.Ino,
        };
    }

    /// <summary>True if <paramref name="dir"/> is <paramref name="ancestor"/> or below it (walks parents, bounded by the inode count).</summary>
    private bool IsWithin(ulong dir, ulong ancestor)
    {
        for (ulong steps = 0, ino = dir; steps < _geometry.InodeCount; steps++)
        {
            if (ino == ancestor)
            {
                return true;
            }

            if (ino == SgzAbi.RootIno)
            {
                return false;
            }

            ino = _inodes.LoadLive(ino).Parent;
        }

        throw new ZoneCorruptException($"{_path}: directory parents of inode {dir} form a loop");
    }

    private static void RequireDirectory(ulong ino, in SgzInode inode, string path)
    {
        if (!InodeTable.IsDirectory(inode))
        {
            throw new ZoneException(ZoneError.NotDirectory, $"{path}: not a directory (inode {ino})");
        }
    }

    private static ZoneException NotFound(string path) => new(ZoneError.NotFound, $"{path}: no such file or directory");


    /// <summary>Makes a regular file, directory, fifo, socket or symbolic link (its target is its data) named <paramref name="name"/> in <paramref name="dir"/>.</summary>
    public NodeRef MakeNode(Caller c, NodeRef dir, ReadOnlySpan<byte> name, uint mode, ReadOnlySpan<byte> target)
    {
        byte[] n = Directories.CheckName(name);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            LoadDirectory(dir);
            ulong ino = MakeNodeIn(c, dir.Ino, n, mode, target, c.Uid, c.Gid, Describe(dir.Ino, n));
            return new NodeRef(ino, _inodes.Load(ino).Generation);
        }
    }

    /// <summary>Gives <paramref name="target"/> (not a directory, not an orphan) one more name.</summary>
    public NodeRef Link(Caller c, NodeRef dir, ReadOnlySpan<byte> name, NodeRef target)
    {
        byte[] n = Directories.CheckName(name);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            var d = LoadDirectory(dir);
            var t = _inodes.LoadNode(target);
            string what = Describe(dir.Ino, n);
            if (InodeTable.IsDirectory(t))
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

            Permissions.RequireMay(c, dir.Ino, d, Permissions.MayWrite | Permissions.MayExec, what);
            RequireAbsent(dir.Ino, n, what);
            _writer.Change(() =>
            {
                _dirs.AddEntry(dir.Ino, n, target.Ino, InodeTable.TypeOf(t.Mode), c.Slot);
                ref var w = ref _inodes.ForWrite(target.Ino);
                w.Nlink++;
                w.CtimeNs = ZoneClock.NowNs();
            });
            return target;
        }
    }

    public void Unlink(Caller c, NodeRef dir, ReadOnlySpan<byte> name)
    {
        byte[] n = Directories.CheckName(name);
        lock (_gate)
        {
            LoadDirectory(dir);
            UnlinkIn(c, dir.Ino, n, Describe(dir.Ino, n));
        }
    }

    public void RemoveDirectory(Caller c, NodeRef dir, ReadOnlySpan<byte> name)
    {
        byte[] n = Directories.CheckName(name);
        lock (_gate)
        {
            LoadDirectory(dir);
            RemoveDirectoryIn(c, dir.Ino, n, Describe(dir.Ino, n));
        }
    }

    /// <summary>rename(2) with flags SGZ_RENAME_NOREPLACE or SGZ_RENAME_EXCHANGE (not both).</summary>
    public void Rename(Caller c, NodeRef srcDir, ReadOnlySpan<byte> srcName, NodeRef dstDir, ReadOnlySpan<byte> dstName, uint flags)
    {
        byte[] from = Directories.CheckName(srcName);
        byte[] to = Directories.CheckName(dstName);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            LoadDirectory(srcDir);
            LoadDirectory(dstDir);
            RenameIn(c, srcDir.Ino, from, dstDir.Ino, to, flags, Describe(srcDir.Ino, from), Describe(dstDir.Ino, to));
        }
    }

    /// <summary>A symbolic link's target (its data bytes).</summary>
    public byte[] ReadLink(ulong ino)
    {
        lock (_gate)
        {
            var inode = _inodes.LoadLive(ino);
            if ((inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIflnk)
            {
                throw new ZoneException(ZoneError.InvalidArgument, $"inode {ino} is not a symbolic link");
            }

            if (inode.Size == 0 || inode.Size > SgzAbi.SymlinkMax)
            {
                throw new ZoneCorruptException($"{_path}: symbolic link inode {ino} has size {inode.Size} (1..{SgzAbi.SymlinkMax})");
            }

            byte[] target = new byte[inode.Size];
            for (ulong pos = 0; pos < inode.Size;)
            {
                var extent = _tables.Map(ino, inode, pos);
                ulong n = Math.Min(extent.Length, inode.Size - pos);
                if (extent.IsHole)
                {
                    throw new ZoneCorruptException($"{_path}: symbolic link inode {ino} has a hole at {pos}");
                }

                _memory.Span(extent.ZoneOffset, n).CopyTo(target.AsSpan((int)pos));
                pos += n;
            }

            return target;
        }
    }

    private SgzInode LoadDirectory(NodeRef dir)
    {
        var inode = _inodes.LoadNode(dir);
        RequireDirectory(dir.Ino, inode, $"directory inode {dir.Ino}");
        return inode;
    }

    private static string Describe(ulong dir, byte[] name) => $"'{Encoding.UTF8.GetString(name)}' in directory inode {dir}";

    private void RequireAbsent(ulong dir, byte[] name, string what)
    {
        if (_dirs.FindEntry(dir, name) is not null)
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

        if (type == SgzAbi.SIflnk && (target.Length == 0 || target.Length > SgzAbi.SymlinkMax))
        {
            throw new ZoneException(target.Length == 0 ? ZoneError.InvalidArgument : ZoneError.NameTooLong,
                $"{what}: a symbolic link target is 1..{SgzAbi.SymlinkMax} bytes, not {target.Length}");
        }

        if (type != SgzAbi.SIflnk && target.Length != 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{what}: only a symbolic link has a target");
        }

        var d = _inodes.LoadLive(dir);
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
        return _writer.Change(() =>
        {
            ulong ino = _inodes.Allocate(type | bits, uid, gid, isDir ? dir : 0);
            _inodes.ForWrite(ino).Nlink = isDir ? 2u : 1u;
            if (text.Length > 0)
            {
                WriteLinkTarget(ino, text, c.Slot);
            }

            _dirs.AddEntry(dir, name, ino, InodeTable.TypeOf(type), c.Slot);
            if (isDir)
            {
                _inodes.ForWrite(dir).Nlink++;
            }

            return ino;
        });
    }

    private void WriteLinkTarget(ulong ino, byte[] text, int slot)
    {
        _tables.Populate(ino, 0, (ulong)text.Length, slot, _ => false);
        var extent = _tables.Map(ino, _inodes.Load(ino), 0);
        _writer.BytesForWrite(extent.ZoneOffset, (ulong)text.Length);
        text.CopyTo(_memory.Span(extent.ZoneOffset, (ulong)text.Length));
        _inodes.ForWrite(ino).Size = (ulong)text.Length;
    }

    private void UnlinkIn(Caller c, ulong dir, byte[] name, string what)
    {
        var slot = _dirs.FindEntry(dir, name) ?? throw NotFound(what);
        var inode = _inodes.LoadLive(slot.Entry.Ino);
        if (InodeTable.IsDirectory(inode))
        {
            throw new ZoneException(ZoneError.IsDirectory, $"{what}: is a directory (use rmdir)");
        }

        Permissions.RequireMayRemove(c, dir, _inodes.LoadLive(dir), inode, what);
        _writer.Change(() =>
        {
            _dirs.RemoveEntry(dir, slot);
            DropLink(slot.Entry.Ino);
        });
    }

    private void RemoveDirectoryIn(Caller c, ulong dir, byte[] name, string what)
    {
        var slot = _dirs.FindEntry(dir, name) ?? throw NotFound(what);
        ulong ino = slot.Entry.Ino;
        var inode = _inodes.LoadLive(ino);
        RequireDirectory(ino, inode, what);
        if (inode.Entries != 0)
        {
            throw new ZoneException(ZoneError.NotEmpty, $"{what}: directory not empty ({inode.Entries} entries)");
        }

        Permissions.RequireMayRemove(c, dir, _inodes.LoadLive(dir), inode, what);
        _writer.Change(() =>
        {
            _dirs.RemoveEntry(dir, slot);
            _reclaimer.Free(ino);
            _inodes.ForWrite(dir).Nlink--;
        });
    }

    private void RenameIn(Caller c, ulong srcDir, byte[] srcName, ulong dstDir, byte[] dstName, uint flags, string from, string to)
    {
        if ((flags & ~SgzAbi.RenameKnown) != 0 || flags == SgzAbi.RenameKnown)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"rename {from}: flags 0x{flags:x} (NOREPLACE 1 or EXCHANGE 2, not both)");
        }

        bool exchange = flags == SgzAbi.RenameExchange;
        var src = _dirs.FindEntry(srcDir, srcName) ?? throw NotFound(from);
        ulong ino = src.Entry.Ino;
        var moving = _inodes.LoadLive(ino);
        bool isDir = InodeTable.IsDirectory(moving);
        var dst = _dirs.FindEntry(dstDir, dstName);
        if (dst is not null && flags == SgzAbi.RenameNoreplace)
        {
            throw new ZoneException(ZoneError.Exists, $"{to}: already exists");
        }

        if (dst is null && exchange)
        {
            throw NotFound(to);
        }

        var sd = _inodes.LoadLive(srcDir);
        var dd = _inodes.LoadLive(dstDir);
        Permissions.RequireMay(c, srcDir, sd, Permissions.MayWrite | Permissions.MayExec, from);
        Permissions.RequireMay(c, dstDir, dd, Permissions.MayWrite | Permissions.MayExec, to);
        Permissions.RequireStickyOwner(c, sd, moving, from);
        ulong other = dst?.Entry.Ino ?? 0;
        var replaced = dst is null ? default : _inodes.LoadLive(other);
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

        _writer.Change(() =>
        {
            ulong now = ZoneClock.NowNs();
            if (exchange)
            {
                _dirs.RetargetEntry(srcDir, src, other, dst!.Value.Entry.Type);
                _dirs.RetargetEntry(dstDir, dst.Value, ino, src.Entry.Type);
                _inodes.ForWrite(other).CtimeNs = now;
                if (otherIsDir && srcDir != dstDir)
                {
                    Reparent(other, dstDir, srcDir);
                }
            }
            else
            {
                if (dst is { } old)
                {
                    _dirs.RetargetEntry(dstDir, old, ino, src.Entry.Type);
                    if (otherIsDir)
                    {
                        _reclaimer.Free(other);
                        _inodes.ForWrite(dstDir).Nlink--;
                    }
                    else
                    {
                        DropLink(other);
                    }
                }
                else
                {
                    _dirs.AddEntry(dstDir, dstName, ino, src.Entry.Type, c.Slot);
                }

                // Find the source again: the destination's changes may have rewritten the directory.
                var again = _dirs.FindEntry(srcDir, srcName) ?? throw new InvalidOperationException("source entry vanished during rename");
                _dirs.RemoveEntry(srcDir, again);
            }

            _inodes.ForWrite(ino).CtimeNs = now;
            if (isDir && srcDir != dstDir)
            {
                Reparent(ino, srcDir, dstDir);
            }
        });
    }

    /// <summary>A directory moved from one parent to another: its parent field and both parents' link counts; inside a change.</summary>
    private void Reparent(ulong dir, ulong from, ulong to)
    {
        _inodes.ForWrite(dir).Parent = to;
        _inodes.ForWrite(from).Nlink--;
        _inodes.ForWrite(to).Nlink++;
    }

    /// <summary>One fewer name for a non-directory; at zero the orphan rule decides (<see cref="Orphans"/>). Inside a change.</summary>
    private void DropLink(ulong ino)
    {
        ref var inode = ref _inodes.ForWrite(ino);
        inode.Nlink--;
        inode.CtimeNs = ZoneClock.NowNs();
        if (inode.Nlink == 0)
        {
            _orphans.LastNameGone(ino, ref inode);
        }
    }
}
