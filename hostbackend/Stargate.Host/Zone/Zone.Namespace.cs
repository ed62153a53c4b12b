using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zone;

/// <summary>
/// Paths and namespace changes from the host. Paths are '/'-separated and
/// relative to the zone's root whether or not they start with '/'; "." and
/// ".." work; symbolic links are not followed. Each change is atomic.
/// </summary>
public sealed partial class Zone
{
    private const uint DefaultFileMode = 0x1a4; // 0644
    private const uint DefaultDirMode = 0x1ed;  // 0755

    /// <summary>The peer slot that the host's own allocations are charged to.</summary>
    private const int HostSlot = SgzAbi.HostPeerSlot;

    public ulong Resolve(string path)
    {
        lock (Sync)
        {
            ulong ino = SgzAbi.RootIno;
            foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                ino = Step(ino, part, path);
            }

            LoadLiveInode(ino);
            return ino;
        }
    }

    public InodeInfo Stat(string path) => StatInode(Resolve(path));

    public IReadOnlyList<DirectoryEntry> ReadDirectory(string path) => ReadDirectory(Resolve(path));

    public ulong CreateFile(string path, uint mode = DefaultFileMode) =>
        CreateNode(path, SgzAbi.SIfreg | (mode & 0xfff), SgzAbi.DtReg);

    public ulong MakeDirectory(string path, uint mode = DefaultDirMode) =>
        CreateNode(path, SgzAbi.SIfdir | (mode & 0xfff), SgzAbi.DtDir);

    /// <summary>mkdir -p: makes each missing directory on the path; fine if the whole path exists as a directory.</summary>
    public ulong MakeDirectories(string path)
    {
        lock (Sync)
        {
            ulong ino = SgzAbi.RootIno;
            string sofar = string.Empty;
            foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                sofar += "/" + part;
                var dir = LoadLiveInode(ino);
                RequireDirectory(ino, dir, sofar);
                var found = part is "." or ".." ? null : FindEntry(ino, CheckName(part));
                ino = found is null && part is not "." and not ".." ? MakeDirectory(sofar) : Step(ino, part, sofar);
            }

            RequireDirectory(ino, LoadLiveInode(ino), path);
            return ino;
        }
    }

    public void Unlink(string path)
    {
        lock (Sync)
        {
            var (dir, name) = ResolveParent(path);
            var slot = FindEntry(dir, name) ?? throw NotFound(path);
            var inode = LoadLiveInode(slot.Entry.Ino);
            if (IsDirectory(inode))
            {
                throw new ZoneException(ZoneError.IsDirectory, $"{path}: is a directory (use rmdir)");
            }

            Change(() =>
            {
                RemoveEntry(dir, slot);
                DropLink(slot.Entry.Ino);
            });
        }
    }

    public void RemoveDirectory(string path)
    {
        lock (Sync)
        {
            var (dir, name) = ResolveParent(path);
            var slot = FindEntry(dir, name) ?? throw NotFound(path);
            ulong ino = slot.Entry.Ino;
            var inode = LoadLiveInode(ino);
            RequireDirectory(ino, inode, path);
            if (inode.Entries != 0)
            {
                throw new ZoneException(ZoneError.NotEmpty, $"{path}: directory not empty ({inode.Entries} entries)");
            }

            Change(() =>
            {
                RemoveEntry(dir, slot);
                FreeInode(ino);
                InodeForWrite(dir).Nlink--;
            });
        }
    }

    /// <summary>
    /// rename(2): moves <paramref name="from"/> to <paramref name="to"/>, replacing
    /// a file there, or an empty directory when <paramref name="from"/> is one.
    /// </summary>
    public void Rename(string from, string to)
    {
        lock (Sync)
        {
            var (srcDir, srcName) = ResolveParent(from);
            var (dstDir, dstName) = ResolveParent(to);
            var src = FindEntry(srcDir, srcName) ?? throw NotFound(from);
            ulong ino = src.Entry.Ino;
            bool isDir = IsDirectory(LoadLiveInode(ino));
            if (isDir && IsWithin(dstDir, ino))
            {
                throw new ZoneException(ZoneError.InvalidArgument, $"cannot move {from} into itself ({to})");
            }

            var dst = FindEntry(dstDir, dstName);
            if (dst is { } existing)
            {
                if (existing.Entry.Ino == ino)
                {
                    return;
                }

                var target = LoadLiveInode(existing.Entry.Ino);
                if (isDir && !IsDirectory(target))
                {
                    throw new ZoneException(ZoneError.NotDirectory, $"{to}: not a directory (cannot replace a file with directory {from})");
                }

                if (!isDir && IsDirectory(target))
                {
                    throw new ZoneException(ZoneError.IsDirectory, $"{to}: is a directory (cannot replace it with file {from})");
                }

                if (isDir && target.Entries != 0)
                {
                    throw new ZoneException(ZoneError.NotEmpty, $"{to}: directory not empty");
                }
            }

            Change(() =>
            {
                if (dst is { } replaced)
                {
                    RemoveEntry(dstDir, replaced);
                    if (isDir)
                    {
                        FreeInode(replaced.Entry.Ino);
                        InodeForWrite(dstDir).Nlink--;
                    }
                    else
                    {
                        DropLink(replaced.Entry.Ino);
                    }
                }

                // The source slot may have moved if the destination directory shrank: find it again.
                var again = FindEntry(srcDir, srcName) ?? throw new InvalidOperationException("source entry vanished during rename");
                RemoveEntry(srcDir, again);
                AddEntry(dstDir, dstName, ino, src.Entry.Type, HostSlot);
                ref var moved = ref InodeForWrite(ino);
                moved.CtimeNs = ZoneClock.NowNs();
                if (isDir && srcDir != dstDir)
                {
                    moved.Parent = dstDir;
                    InodeForWrite(srcDir).Nlink--;
                    InodeForWrite(dstDir).Nlink++;
                }
            });
        }
    }

    internal static bool IsDirectory(in SgzInode inode) => (inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfdir;

    internal static byte TypeOf(uint mode) => (mode & SgzAbi.SIfmt) switch
    {
        SgzAbi.SIfdir => SgzAbi.DtDir,
        SgzAbi.SIfreg => SgzAbi.DtReg,
        SgzAbi.SIflnk => SgzAbi.DtLnk,
        SgzAbi.SIfifo => SgzAbi.DtFifo,
        SgzAbi.SIfchr => SgzAbi.DtChr,
        SgzAbi.SIfblk => SgzAbi.DtBlk,
        SgzAbi.SIfsock => SgzAbi.DtSock,
        _ => 0,
    };

    private ulong CreateNode(string path, uint mode, byte type)
    {
        lock (Sync)
        {
            var (dir, name) = ResolveParent(path);
            if (FindEntry(dir, name) is not null)
            {
                throw new ZoneException(ZoneError.Exists, $"{path}: already exists");
            }

            return Change(() =>
            {
                bool isDir = type == SgzAbi.DtDir;
                ulong ino = AllocateInode(mode, Libc.Getuid(), Libc.Getgid(), isDir ? dir : 0);
                InodeForWrite(ino).Nlink = isDir ? 2u : 1u;
                AddEntry(dir, name, ino, type, HostSlot);
                if (isDir)
                {
                    InodeForWrite(dir).Nlink++;
                }

                return ino;
            });
        }
    }

    /// <summary>One fewer name for a non-directory; frees it at zero. Inside a change.</summary>
    private void DropLink(ulong ino)
    {
        ref var inode = ref InodeForWrite(ino);
        inode.Nlink--;
        inode.CtimeNs = ZoneClock.NowNs();
        if (inode.Nlink == 0)
        {
            FreeInode(ino);
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

        byte[] name = CheckName(leaf);
        ulong dir = Resolve(parent);
        RequireDirectory(dir, LoadLiveInode(dir), parent.Length == 0 ? "/" : parent);
        return (dir, name);
    }

    private ulong Step(ulong dir, string part, string path)
    {
        var inode = LoadLiveInode(dir);
        RequireDirectory(dir, inode, path);
        return part switch
        {
            "." => dir,
            ".." => inode.Parent,
            _ => (FindEntry(dir, CheckName(part)) ?? throw NotFound(path)).Entry.Ino,
        };
    }

    /// <summary>True if <paramref name="dir"/> is <paramref name="ancestor"/> or below it (walks parents, bounded by the inode count).</summary>
    private bool IsWithin(ulong dir, ulong ancestor)
    {
        for (ulong steps = 0, ino = dir; steps < Geometry.InodeCount; steps++)
        {
            if (ino == ancestor)
            {
                return true;
            }

            if (ino == SgzAbi.RootIno)
            {
                return false;
            }

            ino = LoadLiveInode(ino).Parent;
        }

        throw new ZoneCorruptException($"{Path}: directory parents of inode {dir} form a loop");
    }

    private static void RequireDirectory(ulong ino, in SgzInode inode, string path)
    {
        if (!IsDirectory(inode))
        {
            throw new ZoneException(ZoneError.NotDirectory, $"{path}: not a directory (inode {ino})");
        }
    }

    private static ZoneException NotFound(string path) => new(ZoneError.NotFound, $"{path}: no such file or directory");
}
