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
        CreateNode(path, SgzAbi.SIfreg | (mode & 0xfff));

    public ulong MakeDirectory(string path, uint mode = DefaultDirMode) =>
        CreateNode(path, SgzAbi.SIfdir | (mode & 0xfff));

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
            UnlinkIn(Caller.Host, dir, name, path);
        }
    }

    public void RemoveDirectory(string path)
    {
        lock (Sync)
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
        lock (Sync)
        {
            var (srcDir, srcName) = ResolveParent(from);
            var (dstDir, dstName) = ResolveParent(to);
            RenameIn(Caller.Host, srcDir, srcName, dstDir, dstName, 0, from, to);
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

    private ulong CreateNode(string path, uint mode)
    {
        lock (Sync)
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
