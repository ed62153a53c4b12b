using System.Text;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// Names: lookups, and the namespace changes (make, link, unlink, rmdir, rename) by inode
/// (what a guest's request names) and by path (the host's own callers). Paths are
/// '/'-separated and relative to the zone's root whether or not they start with '/'; "."
/// and ".." work; symbolic links are not followed. Both kinds of caller resolve their
/// names here and run the same cores (<see cref="NamespaceRules"/>), so both obey one set
/// of rules; a refused operation changes nothing, and each change is atomic. Public
/// members take the zone's lock.
/// </summary>
public sealed class Names
{
    private const uint DefaultFileMode = 0x1a4; // 0644
    internal const uint DefaultDirMode = 0x1ed;  // 0755

    private readonly string _path;
    private readonly ZoneMemory _memory;
    private readonly InodeTable _inodes;
    private readonly PageTables _tables;
    private readonly Directories _dirs;
    private readonly PeerTable _peers;
    private readonly NamespaceRules _rules;
    private readonly Lock _gate;

    internal Names(
        string path, ZoneMemory memory, InodeTable inodes, PageTables tables, Directories dirs, PeerTable peers, NamespaceRules rules, Lock gate)
    {
        _path = path;
        _memory = memory;
        _inodes = inodes;
        _tables = tables;
        _dirs = dirs;
        _peers = peers;
        _rules = rules;
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
            NamespaceRules.RequireDirectory(dirIno, _inodes.LoadLive(dirIno), "read");
            return _dirs.List(dirIno);
        }
    }

    public IReadOnlyList<DirectoryEntry> ReadDirectory(string path) => ReadDirectory(Resolve(path));

    /// <summary>
    /// The names of <paramref name="dir"/> from slot <paramref name="first"/> on, as stored (bytes),
    /// each with its slot, handed to <paramref name="take"/> until it returns false (a readdir
    /// that filled its buffer).
    /// </summary>
    public void ReadDirectory(NodeRef dir, ulong first, DirectoryVisitor take)
    {
        lock (_gate)
        {
            LoadDirectory(dir);
            foreach (var slot in _dirs.Slots(dir.Ino, first))
            {
                var d = slot.Entry;
                if (!take(Directories.NameOf(d), d.Ino, d.Type, slot.Index))
                {
                    return;
                }
            }
        }
    }

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
                NamespaceRules.RequireDirectory(ino, dir, sofar);
                var found = part is "." or ".." ? null : _dirs.FindEntry(ino, Directories.CheckName(part));
                ino = found is null && part is not "." and not ".." ? MakeDirectory(sofar) : Step(ino, part, sofar);
            }

            NamespaceRules.RequireDirectory(ino, _inodes.LoadLive(ino), path);
            return ino;
        }
    }

    public void Unlink(string path)
    {
        lock (_gate)
        {
            var (dir, name) = ResolveParent(path);
            _rules.Unlink(Caller.Host, dir, name, path);
        }
    }

    public void RemoveDirectory(string path)
    {
        lock (_gate)
        {
            var (dir, name) = ResolveParent(path);
            _rules.RemoveDirectory(Caller.Host, dir, name, path);
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
            _rules.Rename(Caller.Host, srcDir, srcName, dstDir, dstName, 0, from, to);
        }
    }

    private ulong CreateNode(string path, uint mode)
    {
        lock (_gate)
        {
            var (dir, name) = ResolveParent(path);
            return _rules.Make(Caller.Host, dir, name, mode, [], Libc.Getuid(), Libc.Getgid(), path);
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
        NamespaceRules.RequireDirectory(dir, _inodes.LoadLive(dir), parent.Length == 0 ? "/" : parent);
        return (dir, name);
    }

    private ulong Step(ulong dir, string part, string path)
    {
        var inode = _inodes.LoadLive(dir);
        NamespaceRules.RequireDirectory(dir, inode, path);
        return part switch
        {
            "." => dir,
            ".." => inode.Parent,
            _ => (_dirs.FindEntry(dir, Directories.CheckName(part)) ?? throw NamespaceRules.NotFound(path)).Entry.Ino,
        };
    }

    /// <summary>
    /// What <paramref name="name"/> in <paramref name="dir"/> names (ESTALE for a directory of
    /// another generation, NotFound when there is no such name): one search of the directory index.
    /// </summary>
    public InodeInfo Lookup(NodeRef dir, ReadOnlySpan<byte> name)
    {
        byte[] n = Directories.CheckName(name);
        lock (_gate)
        {
            LoadDirectory(dir);
            ulong ino = (_dirs.FindEntry(dir.Ino, n) ?? throw NamespaceRules.NotFound(Describe(dir.Ino, n))).Entry.Ino;
            return InodeInfo.From(ino, _inodes.LoadLive(ino));
        }
    }

    /// <summary>
    /// Makes a regular file, directory, fifo, socket, device node (<paramref name="rdev"/>: its
    /// device number, as the kernel's new_encode_dev) or symbolic link (its target is its data)
    /// named <paramref name="name"/> in <paramref name="dir"/>.
    /// </summary>
    public NodeRef MakeNode(Caller c, NodeRef dir, ReadOnlySpan<byte> name, uint mode, ReadOnlySpan<byte> target, ulong rdev = 0)
    {
        byte[] n = Directories.CheckName(name);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            LoadDirectory(dir);
            ulong ino = _rules.Make(c, dir.Ino, n, mode, target, c.Uid, c.Gid, Describe(dir.Ino, n), rdev);
            return new NodeRef(ino, _inodes.Load(ino).Generation);
        }
    }

    /// <summary>
    /// O_TMPFILE: a regular file in <paramref name="dir"/>'s zone with no name (nlink 0, an
    /// orphan kept for the caller, see <see cref="Orphans.MadeTmpfile"/>) that a link may name.
    /// </summary>
    public NodeRef MakeTmpfile(Caller c, NodeRef dir, uint mode)
    {
        _peers.Check(c.Slot);
        lock (_gate)
        {
            LoadDirectory(dir);
            ulong ino = _rules.MakeTmpfile(c, dir.Ino, mode, Describe(dir.Ino, "(O_TMPFILE)"u8.ToArray()));
            return new NodeRef(ino, _inodes.Load(ino).Generation);
        }
    }

    /// <summary>Gives <paramref name="target"/> (not a directory, not an orphan unless an O_TMPFILE's) one more name.</summary>
    public NodeRef Link(Caller c, NodeRef dir, ReadOnlySpan<byte> name, NodeRef target)
    {
        byte[] n = Directories.CheckName(name);
        _peers.Check(c.Slot);
        lock (_gate)
        {
            var d = LoadDirectory(dir);
            var t = _inodes.LoadNode(target);
            _rules.Link(c, dir.Ino, d, n, target.Ino, t, Describe(dir.Ino, n));
            return target;
        }
    }

    public void Unlink(Caller c, NodeRef dir, ReadOnlySpan<byte> name)
    {
        byte[] n = Directories.CheckName(name);
        lock (_gate)
        {
            LoadDirectory(dir);
            _rules.Unlink(c, dir.Ino, n, Describe(dir.Ino, n));
        }
    }

    public void RemoveDirectory(Caller c, NodeRef dir, ReadOnlySpan<byte> name)
    {
        byte[] n = Directories.CheckName(name);
        lock (_gate)
        {
            LoadDirectory(dir);
            _rules.RemoveDirectory(c, dir.Ino, n, Describe(dir.Ino, n));
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
            _rules.Rename(c, srcDir.Ino, from, dstDir.Ino, to, flags, Describe(srcDir.Ino, from), Describe(dstDir.Ino, to));
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

            if (inode.Size == 0 || inode.Size > SgzAbi.SymlinkTargetMax)
            {
                throw new ZoneCorruptException($"{_path}: symbolic link inode {ino} has size {inode.Size} (1..{SgzAbi.SymlinkTargetMax})");
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
        NamespaceRules.RequireDirectory(dir.Ino, inode, $"directory inode {dir.Ino}");
        return inode;
    }

    private static string Describe(ulong dir, byte[] name) => $"'{Encoding.UTF8.GetString(name)}' in directory inode {dir}";

}

/// <summary>One name of a directory read in slot order: false stops the reading.</summary>
public delegate bool DirectoryVisitor(ReadOnlySpan<byte> name, ulong ino, byte type, ulong slot);
