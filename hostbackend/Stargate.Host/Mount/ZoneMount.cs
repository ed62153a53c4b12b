using System.Text;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Mount;

/// <summary>How a zone is mounted on the host: read-only (-o ro) and open to other users (-o allow_other).</summary>
public sealed record MountOptions(bool ReadOnly = false, bool AllowOther = false);

/// <summary>
/// A zone mounted on the host through FUSE (docs/host-mount.md): libfuse3's low-level session
/// answers the kernel, and each request becomes the same host-library call a guest's request
/// does, with the requesting process's uid, gid and groups as the caller, in the zone's lock.
/// Nothing is cached on the host: entries and attributes time out at once (the kernel asks
/// again on each access) and file data is direct I/O from the zone, so a guest's change shows
/// at the next read or stat. The kernel checks permissions first (default_permissions) and the
/// host library checks them again, as for guests.
/// </summary>
public sealed unsafe class ZoneMount : IDisposable
{
    private const int GroupsMax = 64;
    private const int OAppend = 0x400;
    private const int OTrunc = 0x200;

    private readonly Zone _zone;
    private readonly Action<string> _log;
    private readonly Dictionary<ulong, Known> _known = [];
    private readonly Lock _stopping = new();
    private readonly List<nint> _strings = [];
    private readonly MountLocks _locks;
    private readonly HashSet<ulong> _lockOwners = [];
    private readonly List<PendingLock> _pending = [];
    private Thread? _waiter;
    private GCHandle _self;
    private FuseLowlevelOps* _ops;
    private nint _session;
    private bool _unmounted;

    private ZoneMount(Zone zone, string mountpoint, MountLocks locks, Action<string> log)
    {
        _zone = zone;
        _locks = locks;
        Mountpoint = mountpoint;
        _log = log;
    }

    public string Mountpoint { get; }

    /// <summary>
    /// Checks <paramref name="mountpoint"/> and /dev/fuse, then mounts <paramref name="zone"/>
    /// there (opened read-only, the mount is read-only), its locks taken through
    /// <paramref name="locks"/>. <see cref="Run"/> serves it.
    /// Failures are one-line <see cref="IOException"/>s.
    /// </summary>
    public static ZoneMount Mount(Zone zone, string mountpoint, MountOptions options, MountLocks locks, Action<string> log)
    {
        string full = Path.GetFullPath(mountpoint);
        MountPoints.Check(full);
        if (!File.Exists("/dev/fuse"))
        {
            throw new IOException("/dev/fuse is missing: load the fuse module (modprobe fuse), or give a container the device");
        }

        if (!Fuse3.IsAvailable())
        {
            throw new IOException("libfuse3.so.3 is missing: install it (apt-get install libfuse3-3 fuse3)");
        }

        var mount = new ZoneMount(zone, full, locks, log);
        try
        {
            mount.Start(options with { ReadOnly = options.ReadOnly || !zone.IsWritable });
        }
        catch
        {
            mount.Dispose();
            throw;
        }

        return mount;
    }

    /// <summary>Serves the kernel's requests on the calling thread until the mount goes (fusermount3 -u, umount, <see cref="Stop"/>).</summary>
    public int Run()
    {
        int rc = Fuse3.SessionLoop(_session);
        Stop();
        return rc;
    }

    /// <summary>Ends the mount from any thread (SIGTERM): the serving loop returns.</summary>
    public void Stop()
    {
        lock (_stopping)
        {
            if (_unmounted || _session == 0)
            {
                return;
            }

            _unmounted = true;
            Fuse3.SessionExit(_session);
            Fuse3.SessionUnmount(_session);
        }
    }

    public void Dispose()
    {
        Stop();
        Thread? waiter;
        lock (_pending)
        {
            waiter = _waiter;
        }

        waiter?.Join();
        lock (_pending)
        {
            foreach (var p in _pending)
            {
                Fuse3.ReplyErr(p.Request, Errno.EINTR);
            }

            _pending.Clear();
        }

        if (_zone.IsWritable)
        {
            lock (_lockOwners)
            {
                _locks.DropAll(_lockOwners);
                _lockOwners.Clear();
            }
        }

        if (_session != 0)
        {
            Fuse3.SessionDestroy(_session);
            _session = 0;
        }

        if (_ops != null)
        {
            NativeMemory.Free(_ops);
            _ops = null;
        }

        foreach (nint s in _strings)
        {
            Marshal.FreeCoTaskMem(s);
        }

        _strings.Clear();
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }

    private void Start(MountOptions options)
    {
        _self = GCHandle.Alloc(this);
        _ops = (FuseLowlevelOps*)NativeMemory.AllocZeroed((nuint)sizeof(FuseLowlevelOps));
        Fill(_ops, options.ReadOnly);
        string mountOptions = "default_permissions,fsname=stargate,subtype=stargate"
            + (options.AllowOther ? ",allow_other" : string.Empty) + (options.ReadOnly ? ",ro" : string.Empty);
        string[] argv = ["stargate", "-o", mountOptions];
        byte** list = stackalloc byte*[argv.Length + 1];
        for (int i = 0; i < argv.Length; i++)
        {
            nint s = Marshal.StringToCoTaskMemUTF8(argv[i]);
            _strings.Add(s);
            list[i] = (byte*)s;
        }

        list[argv.Length] = null;
        var args = new FuseArgs { Argc = argv.Length, Argv = list, Allocated = 0 };
        _session = Fuse3.SessionNew(&args, _ops, (nuint)sizeof(FuseLowlevelOps), GCHandle.ToIntPtr(_self));
        if (_session == 0)
        {
            throw new IOException($"libfuse refused the session (options {mountOptions}); its message is above");
        }

        if (Fuse3.SessionMount(_session, Mountpoint) != 0)
        {
            Fuse3.SessionDestroy(_session);
            _session = 0;
            throw new IOException($"mounting on {Mountpoint} failed; libfuse's message is above");
        }
    }

    private static void Fill(FuseLowlevelOps* ops, bool readOnly)
    {
        ops->Lookup = &OnLookup;
        ops->Forget = &OnForget;
        ops->Getattr = &OnGetattr;
        ops->Readlink = &OnReadlink;
        ops->Open = &OnOpen;
        ops->Read = &OnRead;
        ops->Release = &OnRelease;
        ops->Fsync = &OnSync;
        ops->Opendir = &OnOpendir;
        ops->Readdir = &OnReaddir;
        ops->Releasedir = &OnSucceed;
        ops->Fsyncdir = &OnSync;
        ops->Statfs = &OnStatfs;
        ops->Getxattr = &OnGetxattr;
        ops->Listxattr = &OnListxattr;
        if (readOnly)
        {
            return;  // the kernel refuses every change of a ro mount with EROFS itself
        }

        ops->Setattr = &OnSetattr;
        ops->Mknod = &OnMknod;
        ops->Mkdir = &OnMkdir;
        ops->Unlink = &OnUnlink;
        ops->Rmdir = &OnRmdir;
        ops->Symlink = &OnSymlink;
        ops->Rename = &OnRename;
        ops->Link = &OnLink;
        ops->Write = &OnWrite;
        ops->Setxattr = &OnSetxattr;
        ops->Removexattr = &OnRemovexattr;
        ops->Create = &OnCreate;
        ops->Fallocate = &OnFallocate;
        ops->Flock = &OnFlock;
        ops->Getlk = &OnGetlk;
        ops->Setlk = &OnSetlk;
        ops->Flush = &OnFlush;
    }

    // ---- the callbacks: each finds its mount, answers, and turns any failure into an errno ----

    private static ZoneMount Of(nint req) => (ZoneMount)GCHandle.FromIntPtr(Fuse3.RequestUserdata(req)).Target!;

    private static byte[] Name(byte* name) => MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name).ToArray();

    private static void Fail(nint req, Exception e)
    {
        int errno = e switch
        {
            ZoneException z => z.Errno,
            NativeException n => n.Errno,
            _ => Errno.EIO,
        };
        if (e is not ZoneException and not NativeException)
        {
            try
            {
                Of(req)._log($"stargate mount: internal error answering the kernel: {e}");
            }
            catch (Exception)
            {
                // the log itself failed: the errno still goes back
            }
        }

        Fuse3.ReplyErr(req, errno);
    }

    /// <summary>A request whose answer is success or an errno: <paramref name="change"/> in the zone's lock, then the answer.</summary>
    private static void Change(nint req, Action<ZoneMount> change)
    {
        try
        {
            var m = Of(req);
            using (m._zone.Exclusive())
            {
                change(m);
            }

            Fuse3.ReplyErr(req, 0);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnLookup(nint req, ulong parent, byte* name)
    {
        try
        {
            var m = Of(req);
            InodeInfo info;
            using (m._zone.Exclusive())
            {
                info = m._zone.Names.Lookup(m.Node(parent), Name(name));
            }

            m.ReplyEntry(req, info);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnForget(nint req, ulong ino, ulong count)
    {
        try
        {
            Of(req).Forget(ino, count);
        }
        finally
        {
            Fuse3.ReplyNone(req);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnGetattr(nint req, ulong ino, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            ReplyAttr(req, m.Info(ino));
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnSetattr(nint req, ulong ino, StatBuf* attr, int toSet, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            ReplyAttr(req, m.SetAttributes(req, ino, attr, toSet, fi != null));
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnReadlink(nint req, ulong ino)
    {
        try
        {
            var m = Of(req);
            byte[] target;
            using (m._zone.Exclusive())
            {
                var node = m.Node(ino);
                m._zone.Inodes.LoadNode(node);
                target = m._zone.Names.ReadLink(node.Ino);
            }

            byte[] terminated = [.. target, 0];
            fixed (byte* t = terminated)
            {
                Fuse3.ReplyReadlink(req, t);
            }
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnMknod(nint req, ulong parent, byte* name, uint mode, ulong rdev)
    {
        try
        {
            var m = Of(req);
            m.ReplyEntry(req, m.Make(req, parent, Name(name), mode, [], rdev));
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnMkdir(nint req, ulong parent, byte* name, uint mode)
    {
        try
        {
            var m = Of(req);
            m.ReplyEntry(req, m.Make(req, parent, Name(name), SgzAbi.SIfdir | (mode & 0xfff), [], 0));
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnSymlink(nint req, byte* target, ulong parent, byte* name)
    {
        try
        {
            var m = Of(req);
            m.ReplyEntry(req, m.Make(req, parent, Name(name), SgzAbi.SIflnk | 0x1ff, Name(target), 0));
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnCreate(nint req, ulong parent, byte* name, uint mode, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            var info = m.Make(req, parent, Name(name), SgzAbi.SIfreg | (mode & 0xfff), [], 0);
            FuseEntryParam entry = m.Entry(info);
            m._zone.Orphans.HostOpened(new NodeRef(info.Ino, info.Generation));
            fi->Handle = 1;
            fi->DirectIo = true;
            Fuse3.ReplyCreate(req, &entry, fi);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnUnlink(nint req, ulong parent, byte* name)
    {
        byte[] n = Name(name);
        Change(req, m => m._zone.Names.Unlink(CallerOf(req), m.Node(parent), n));
    }

    [UnmanagedCallersOnly]
    private static void OnRmdir(nint req, ulong parent, byte* name)
    {
        byte[] n = Name(name);
        Change(req, m => m._zone.Names.RemoveDirectory(CallerOf(req), m.Node(parent), n));
    }

    [UnmanagedCallersOnly]
    private static void OnRename(nint req, ulong parent, byte* name, ulong newParent, byte* newName, uint flags)
    {
        byte[] from = Name(name), to = Name(newName);
        Change(req, m => m._zone.Names.Rename(CallerOf(req), m.Node(parent), from, m.Node(newParent), to, flags));
    }

    [UnmanagedCallersOnly]
    private static void OnLink(nint req, ulong ino, ulong newParent, byte* newName)
    {
        try
        {
            var m = Of(req);
            InodeInfo info;
            using (m._zone.Exclusive())
            {
                var made = m._zone.Names.Link(CallerOf(req), m.Node(newParent), Name(newName), m.Node(ino));
                info = m._zone.Names.StatInode(made.Ino);
            }

            m.ReplyEntry(req, info);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnOpen(nint req, ulong ino, FuseFileInfo* fi)
    {
        try
        {
            var info = Of(req).Info(ino);
            if (info.IsDirectory)
            {
                Fuse3.ReplyErr(req, Errno.EISDIR);
                return;
            }

            var m = Of(req);
            if ((fi->Flags & OTrunc) != 0)
            {
                m.Truncate(req, ino);  // libfuse asks for atomic O_TRUNC: the open truncates
            }

            m._zone.Orphans.HostOpened(m.Node(ino));
            fi->Handle = 1;
            fi->DirectIo = true;
            Fuse3.ReplyOpen(req, fi);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnRead(nint req, ulong ino, nuint size, long offset, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(size, int.MaxValue));
            try
            {
                int count;
                using (m._zone.Exclusive())
                {
                    var node = m.Node(ino);
                    m._zone.Inodes.LoadNode(node);
                    count = m._zone.Files.Read(node.Ino, (ulong)offset, buffer.AsSpan(0, (int)size));
                }

                fixed (byte* b = buffer)
                {
                    Fuse3.ReplyBuf(req, b, (nuint)count);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnWrite(nint req, ulong ino, byte* data, nuint size, long offset, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            m.Write(req, ino, new ReadOnlySpan<byte>(data, (int)size), (ulong)offset, (fi->Flags & OAppend) != 0);
            Fuse3.ReplyWrite(req, size);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    /// <summary>The last close of an open file (fh 1: counted by open and create).</summary>
    [UnmanagedCallersOnly]
    private static void OnRelease(nint req, ulong ino, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            if (fi->FlockRelease && m._zone.IsWritable)
            {
                m._locks.Set(m.Node(ino), new LockRange(SgzAbi.LockKindFlock, SgzAbi.LockUnlock, 0, SgzAbi.LockEof), fi->LockOwner, 0);
            }

            if (fi->Handle == 1)
            {
                using (m._zone.Exclusive())
                {
                    m._zone.Orphans.HostClosed(m.Node(ino));
                }
            }

            Fuse3.ReplyErr(req, 0);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnSucceed(nint req, ulong ino, FuseFileInfo* fi) => Fuse3.ReplyErr(req, 0);

    /// <summary>fsync: a zone is memory, and every change commits before its reply; durability is issue 17's write-back.</summary>
    [UnmanagedCallersOnly]
    private static void OnSync(nint req, ulong ino, int dataOnly, FuseFileInfo* fi) => Fuse3.ReplyErr(req, 0);

    [UnmanagedCallersOnly]
    private static void OnOpendir(nint req, ulong ino, FuseFileInfo* fi)
    {
        try
        {
            if (!Of(req).Info(ino).IsDirectory)
            {
                Fuse3.ReplyErr(req, Errno.ENOTDIR);
                return;
            }

            Fuse3.ReplyOpen(req, fi);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnReaddir(nint req, ulong ino, nuint size, long offset, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            byte[] buffer = new byte[(int)Math.Min(size, 1 << 20)];
            int used = m.ReadDirectory(req, ino, buffer, offset);
            fixed (byte* b = buffer)
            {
                Fuse3.ReplyBuf(req, b, (nuint)used);
            }
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnStatfs(nint req, ulong ino)
    {
        try
        {
            var m = Of(req);
            ZoneSummary s;
            using (m._zone.Exclusive())
            {
                s = m._zone.Summarize();
            }

            var v = new StatVfs
            {
                BlockSize = ZoneGeometry.PageSize,
                FragmentSize = ZoneGeometry.PageSize,
                Blocks = s.DataBytes / ZoneGeometry.PageSize,
                BlocksFree = (s.DataBytes - Math.Min(s.DataBytes, s.DataBytesUsed)) / ZoneGeometry.PageSize,
                Files = s.Inodes,
                FilesFree = s.Inodes - Math.Min(s.Inodes, s.InodesUsed),
                NameMax = SgzAbi.NameMax,
            };
            v.BlocksAvailable = v.BlocksFree;
            v.FilesAvailable = v.FilesFree;
            Fuse3.ReplyStatfs(req, &v);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnSetxattr(nint req, ulong ino, byte* name, byte* value, nuint size, int flags)
    {
        byte[] n = Name(name);
        byte[] v = new ReadOnlySpan<byte>(value, (int)size).ToArray();
        Change(req, m =>
        {
            var c = CallerOf(req);
            m._zone.Xattrs.SetXattr(c, m.Node(ino), n, v, (uint)flags, admin: c.Uid == 0);
        });
    }

    [UnmanagedCallersOnly]
    private static void OnRemovexattr(nint req, ulong ino, byte* name)
    {
        byte[] n = Name(name);
        Change(req, m =>
        {
            var c = CallerOf(req);
            m._zone.Xattrs.RemoveXattr(c, m.Node(ino), n, admin: c.Uid == 0);
        });
    }

    [UnmanagedCallersOnly]
    private static void OnGetxattr(nint req, ulong ino, byte* name, nuint size)
    {
        try
        {
            var m = Of(req);
            byte[] value;
            using (m._zone.Exclusive())
            {
                value = m._zone.Xattrs.GetXattr(m.Node(ino), Name(name));
            }

            ReplySized(req, value, size);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnListxattr(nint req, ulong ino, nuint size)
    {
        try
        {
            var m = Of(req);
            IReadOnlyList<XattrEntry> entries;
            using (m._zone.Exclusive())
            {
                entries = m._zone.Xattrs.ListXattrs(m.Node(ino));
            }

            var names = new List<byte>();
            foreach (var e in entries)
            {
                names.AddRange(Encoding.UTF8.GetBytes(XattrBlock.Prefix(e.Index)));
                names.AddRange(e.Name);
                names.Add(0);
            }

            ReplySized(req, [.. names], size);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnFallocate(nint req, ulong ino, int mode, long offset, long length, FuseFileInfo* fi) =>
        Change(req, m => m.Fallocate(req, ino, mode, (ulong)offset, (ulong)length));

    /// <summary>A close of a descriptor: the closing process's fcntl locks on the file go, as POSIX says.</summary>
    [UnmanagedCallersOnly]
    private static void OnFlush(nint req, ulong ino, FuseFileInfo* fi)
    {
        try
        {
            var m = Of(req);
            if (m.HasLocks(fi->LockOwner))
            {
                m._locks.Set(m.Node(ino), new LockRange(SgzAbi.LockKindPosix, SgzAbi.LockUnlock, 0, SgzAbi.LockEof), fi->LockOwner, 0);
            }

            Fuse3.ReplyErr(req, 0);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnFlock(nint req, ulong ino, FuseFileInfo* fi, int operation)
    {
        const int Shared = 1, NonBlocking = 4, Unlock = 8;
        try
        {
            int type = (operation & Unlock) != 0 ? SgzAbi.LockUnlock : (operation & Shared) != 0 ? SgzAbi.LockRead : SgzAbi.LockWrite;
            Of(req).Lock(req, ino, new LockRange(SgzAbi.LockKindFlock, type, 0, SgzAbi.LockEof), fi->LockOwner, wait: (operation & NonBlocking) == 0);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnSetlk(nint req, ulong ino, FuseFileInfo* fi, FileLock* posix, int sleep)
    {
        try
        {
            Of(req).Lock(req, ino, Range(posix), fi->LockOwner, wait: sleep != 0);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnGetlk(nint req, ulong ino, FuseFileInfo* fi, FileLock* posix)
    {
        try
        {
            var m = Of(req);
            var conflict = m._locks.Test(m.Node(ino), Range(posix), fi->LockOwner, (uint)Fuse3.RequestContext(req)->Pid);
            var answer = conflict is { } c
                ? new FileLock
                {
                    Type = c.Type == SgzAbi.LockWrite ? FileLock.WriteLock : FileLock.ReadLock,
                    Start = (long)c.Start,
                    Length = c.End == SgzAbi.LockEof ? 0 : (long)(c.End - c.Start + 1),
                    Pid = (int)c.Pid,
                }
                : new FileLock { Type = FileLock.Unlock, Start = posix->Start, Length = posix->Length };
            Fuse3.ReplyLock(req, &answer);
        }
        catch (Exception e)
        {
            Fail(req, e);
        }
    }

    // ---- the work, on this mount ----

    /// <summary>An fcntl lock as the lock table takes it: inclusive range, SGZ_LOCK_EOF for a length of 0.</summary>
    private static LockRange Range(FileLock* posix)
    {
        int type = posix->Type switch
        {
            FileLock.ReadLock => SgzAbi.LockRead,
            FileLock.WriteLock => SgzAbi.LockWrite,
            _ => SgzAbi.LockUnlock,
        };
        if (posix->Start < 0 || posix->Length < 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"lock range {posix->Start}+{posix->Length}");
        }

        ulong start = (ulong)posix->Start;
        ulong end = posix->Length == 0 ? SgzAbi.LockEof : start + (ulong)posix->Length - 1;
        return new LockRange(SgzAbi.LockKindPosix, type, start, end);
    }

    private bool HasLocks(ulong owner)
    {
        lock (_lockOwners)
        {
            return _lockOwners.Contains(owner);
        }
    }

    /// <summary>
    /// Takes, converts or drops a lock. One that must wait is answered later by the waiter
    /// thread, which tries it again every few milliseconds (a guest's unlock wakes no host
    /// thread) and answers EINTR when the kernel interrupts the request (a signal).
    /// </summary>
    private void Lock(nint req, ulong ino, LockRange range, ulong owner, bool wait)
    {
        uint pid = (uint)Fuse3.RequestContext(req)->Pid;
        var node = Node(ino);
        lock (_lockOwners)
        {
            _lockOwners.Add(owner);
        }

        if (_locks.Set(node, range, owner, pid) is null)
        {
            Fuse3.ReplyErr(req, 0);
            return;
        }

        if (!wait)
        {
            Fuse3.ReplyErr(req, Errno.EAGAIN);
            return;
        }

        lock (_pending)
        {
            _pending.Add(new PendingLock(req, node, range, owner, pid));
            if (_waiter is null)
            {
                _waiter = new Thread(WaitForLocks) { IsBackground = true, Name = $"locks {Mountpoint}" };
                _waiter.Start();
            }
        }
    }

    private void WaitForLocks()
    {
        while (!_unmounted)
        {
            Thread.Sleep(5);
            PendingLock[] now;
            lock (_pending)
            {
                if (_pending.Count == 0)
                {
                    _waiter = null;  // the next wait starts another
                    return;
                }

                now = [.. _pending];
            }

            foreach (var p in now)
            {
                int? answer;
                try
                {
                    answer = Fuse3.RequestInterrupted(p.Request) != 0 ? Errno.EINTR
                        : _locks.Set(p.File, p.Range, p.Owner, p.Pid) is null ? 0
                        : null;
                }
                catch (ZoneException e)
                {
                    answer = e.Errno;
                }

                if (answer is { } errno)
                {
                    lock (_pending)
                    {
                        _pending.Remove(p);
                    }

                    Fuse3.ReplyErr(p.Request, errno);
                }
            }
        }
    }


    private static Caller CallerOf(nint req, bool groups = false)
    {
        var ctx = Fuse3.RequestContext(req);
        var c = new Caller(ctx->Uid, ctx->Gid, SgzAbi.HostPeerSlot);
        if (!groups)
        {
            return c;
        }

        uint* list = stackalloc uint[GroupsMax];
        int n = Fuse3.RequestGroups(req, GroupsMax, list);
        return n <= 0 ? c : c with { Groups = new ReadOnlySpan<uint>(list, Math.Min(n, GroupsMax)).ToArray() };
    }

    private static void ReplyAttr(nint req, InodeInfo info)
    {
        StatBuf st = Stat(info);
        Fuse3.ReplyAttr(req, &st, 0);
    }

    /// <summary>getxattr and listxattr: the size when asked with 0, ERANGE when it does not fit, else the bytes.</summary>
    private static void ReplySized(nint req, byte[] value, nuint size)
    {
        if (size == 0)
        {
            Fuse3.ReplyXattr(req, (nuint)value.Length);
        }
        else if ((nuint)value.Length > size)
        {
            Fuse3.ReplyErr(req, Errno.ERANGE);
        }
        else
        {
            fixed (byte* v = value)
            {
                Fuse3.ReplyBuf(req, v, (nuint)value.Length);
            }
        }
    }

    private static StatBuf Stat(InodeInfo i) => new()
    {
        Ino = i.Ino,
        Mode = i.Mode,
        Nlink = i.Nlink,
        Uid = i.Uid,
        Gid = i.Gid,
        Rdev = i.Rdev,
        Size = (long)i.Size,
        BlockSize = (long)ZoneGeometry.PageSize,
        Blocks = (long)(i.Pages * (ZoneGeometry.PageSize / 512)),
        Atime = Timespec.FromNanoseconds(i.AtimeNs),
        Mtime = Timespec.FromNanoseconds(i.MtimeNs),
        Ctime = Timespec.FromNanoseconds(i.CtimeNs),
    };

    /// <summary>
    /// The kernel names inodes by number only: the generation comes from the lookup that gave
    /// the number, so an inode freed and made again (another generation) answers ESTALE, never
    /// the new file's contents. The root, and a number the kernel kept across a restart of
    /// this mount, take the zone's current generation.
    /// </summary>
    private NodeRef Node(ulong ino)
    {
        if (_known.TryGetValue(ino, out var known))
        {
            return new NodeRef(ino, known.Generation);
        }

        return new NodeRef(ino, _zone.Names.StatInode(ino).Generation);
    }

    private InodeInfo Info(ulong ino)
    {
        using (_zone.Exclusive())
        {
            var node = Node(ino);
            _zone.Inodes.LoadNode(node);
            return _zone.Names.StatInode(ino);
        }
    }

    private FuseEntryParam Entry(InodeInfo info)
    {
        _known[info.Ino] = _known.TryGetValue(info.Ino, out var k) && k.Generation == info.Generation
            ? k with { Lookups = k.Lookups + 1 }
            : new Known(info.Generation, 1);
        return new FuseEntryParam { Ino = info.Ino, Generation = info.Generation, Attributes = Stat(info), AttributeTimeout = 0, EntryTimeout = 0 };
    }

    private void ReplyEntry(nint req, InodeInfo info)
    {
        FuseEntryParam entry = Entry(info);
        Fuse3.ReplyEntry(req, &entry);
    }

    private void Forget(ulong ino, ulong count)
    {
        if (_known.TryGetValue(ino, out var k))
        {
            if (k.Lookups <= count)
            {
                _known.Remove(ino);
            }
            else
            {
                _known[ino] = k with { Lookups = k.Lookups - count };
            }
        }
    }

    private InodeInfo Make(nint req, ulong parent, byte[] name, uint mode, byte[] target, ulong rdev)
    {
        using (_zone.Exclusive())
        {
            var made = _zone.Names.MakeNode(CallerOf(req), Node(parent), name, mode, target, rdev);
            return _zone.Names.StatInode(made.Ino);
        }
    }

    private InodeInfo SetAttributes(nint req, ulong ino, StatBuf* attr, int toSet, bool viaOpenFile)
    {
        var c = CallerOf(req, groups: true);
        using (_zone.Exclusive())
        {
            var node = Node(ino);
            var now = _zone.Names.StatInode(ino);
            uint valid = 0;
            valid |= (toSet & Fuse3.SetAttrMode) != 0 ? SgzAbi.AttrMode : 0;
            valid |= (toSet & Fuse3.SetAttrUid) != 0 ? SgzAbi.AttrUid : 0;
            valid |= (toSet & Fuse3.SetAttrGid) != 0 ? SgzAbi.AttrGid : 0;
            valid |= (toSet & Fuse3.SetAttrSize) != 0 ? SgzAbi.AttrSize : 0;
            valid |= (toSet & (Fuse3.SetAttrAtime | Fuse3.SetAttrAtimeNow)) != 0 ? SgzAbi.AttrAtime : 0;
            valid |= (toSet & (Fuse3.SetAttrMtime | Fuse3.SetAttrMtimeNow)) != 0 ? SgzAbi.AttrMtime : 0;

            uint newMode = attr->Mode & 0xfff;

            // A size change without CAP_FSETID (here: not uid 0) drops set-user-id and an
            // executable set-group-id, as Linux's do_truncate does.
            if ((valid & SgzAbi.AttrSize) != 0 && c.Uid != 0 && Permissions.HasPrivileges(now.Mode))
            {
                valid |= SgzAbi.AttrKillPriv;
            }

            ulong atime = (toSet & Fuse3.SetAttrAtimeNow) != 0 ? SgzAbi.TimeNow : attr->Atime.ToNanoseconds();
            ulong mtime = (toSet & Fuse3.SetAttrMtimeNow) != 0 ? SgzAbi.TimeNow : attr->Mtime.ToNanoseconds();
            var change = new AttributeChange(valid, newMode, attr->Uid, attr->Gid, (ulong)attr->Size, atime, mtime) { ViaOpenFile = viaOpenFile };
            _zone.Files.SetAttributes(c, node, change);
            return _zone.Names.StatInode(ino);
        }
    }

    private void Truncate(nint req, ulong ino)
    {
        var c = CallerOf(req);
        using (_zone.Exclusive())
        {
            var node = Node(ino);
            var now = _zone.Names.StatInode(ino);
            uint valid = SgzAbi.AttrSize | (c.Uid != 0 && Permissions.HasPrivileges(now.Mode) ? SgzAbi.AttrKillPriv : 0);
            _zone.Files.SetAttributes(c, node, new AttributeChange(valid, 0, 0, 0, 0, 0, 0) { ViaOpenFile = true });
        }
    }

    private void Write(nint req, ulong ino, ReadOnlySpan<byte> data, ulong offset, bool append)
    {
        var c = CallerOf(req);
        using (_zone.Exclusive())
        {
            var node = Node(ino);
            var inode = _zone.Names.StatInode(ino);
            _zone.Inodes.LoadNode(node);

            // A write by a caller without CAP_FSETID (here: not uid 0) drops set-user-id and an
            // executable set-group-id, as Linux's file_remove_privs does.
            if (c.Uid != 0 && Permissions.HasPrivileges(inode.Mode))
            {
                _zone.Files.SetAttributes(c, node, new AttributeChange(SgzAbi.AttrKillPriv, 0, 0, 0, 0, 0, 0));
            }

            _zone.Files.Write(ino, append ? inode.Size : offset, data);
        }
    }

    private int ReadDirectory(nint req, ulong ino, byte[] buffer, long offset)
    {
        int used = 0;

        // Offsets: 1 after ".", 2 after "..", then slot + 3 after the name in that slot, so a
        // name keeps its place while others come and go.
        bool Add(ReadOnlySpan<byte> name, ulong entryIno, uint type, long next)
        {
            Span<byte> terminated = stackalloc byte[name.Length + 1];
            name.CopyTo(terminated);
            terminated[^1] = 0;
            var st = new StatBuf { Ino = entryIno, Mode = type << 12 };
            fixed (byte* b = buffer)
            fixed (byte* n = terminated)
            {
                nuint need = Fuse3.AddDirentry(req, b + used, (nuint)(buffer.Length - used), n, &st, next);
                if (need > (nuint)(buffer.Length - used))
                {
                    return false;
                }

                used += (int)need;
                return true;
            }
        }

        using (_zone.Exclusive())
        {
            var node = Node(ino);
            if (offset < 1 && !Add("."u8, ino, SgzAbi.DtDir, 1))
            {
                return used;
            }

            if (offset < 2 && !Add(".."u8, _zone.Inodes.LoadLive(ino).Parent, SgzAbi.DtDir, 2))
            {
                return used;
            }

            ulong first = offset <= 2 ? 0 : (ulong)offset - 2;
            _zone.Names.ReadDirectory(node, first, (name, entryIno, type, slot) => Add(name, entryIno, type, (long)slot + 3));
        }

        return used;
    }

    private void Fallocate(nint req, ulong ino, int mode, ulong offset, ulong length)
    {
        const int KeepSize = 0x01, PunchHole = 0x02;
        var c = CallerOf(req);
        using (_zone.Exclusive())
        {
            var node = Node(ino);
            switch (mode)
            {
                case 0 or KeepSize:
                    _zone.Files.Allocate(c, node, offset, length);
                    if (mode == 0 && offset + length > _zone.Names.StatInode(ino).Size)
                    {
                        _zone.Files.SetAttributes(c, node, new AttributeChange(SgzAbi.AttrSize, 0, 0, 0, offset + length, 0, 0) { ViaOpenFile = true });
                    }

                    break;
                case PunchHole | KeepSize:
                    _zone.Files.Punch(c, node, offset, length);
                    break;
                default:
                    throw new ZoneException(ZoneError.NotSupported, $"fallocate mode 0x{mode:x}");
            }
        }
    }

    private readonly record struct Known(uint Generation, ulong Lookups);

    private sealed record PendingLock(nint Request, NodeRef File, LockRange Range, ulong Owner, uint Pid);
}
