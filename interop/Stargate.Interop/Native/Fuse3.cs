namespace Stargate.Interop.Native;

/// <summary>
/// The part of libfuse3's low-level API (fuse_lowlevel.h, libfuse 3.14 as Debian 12 ships it in
/// libfuse3-3) that `stargate mount` uses: a session that answers the kernel's FUSE requests
/// through the callbacks of <see cref="FuseLowlevelOps"/>, and the replies. libfuse speaks the
/// protocol; nothing here writes it by hand. Every reply function consumes the request; their
/// int results (a reply that could not be sent: the request was interrupted, the mount went)
/// are dropped, as nothing can be done about them, so they are declared void.
/// </summary>
public static unsafe partial class Fuse3
{
    private const string Library = "libfuse3.so.3";

    // fuse_set_attr bits of the setattr callback's to_set.
    public const int SetAttrMode = 1 << 0;
    public const int SetAttrUid = 1 << 1;
    public const int SetAttrGid = 1 << 2;
    public const int SetAttrSize = 1 << 3;
    public const int SetAttrAtime = 1 << 4;
    public const int SetAttrMtime = 1 << 5;
    public const int SetAttrAtimeNow = 1 << 7;
    public const int SetAttrMtimeNow = 1 << 8;

    /// <summary>Whether libfuse3.so.3 can be loaded here (Debian package libfuse3-3).</summary>
    public static bool IsAvailable() => NativeLibrary.TryLoad(Library, typeof(Fuse3).Assembly, null, out _);

    [LibraryImport(Library, EntryPoint = "fuse_session_new")]
    public static partial nint SessionNew(FuseArgs* args, FuseLowlevelOps* ops, nuint opSize, nint userdata);

    [LibraryImport(Library, EntryPoint = "fuse_session_mount", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SessionMount(nint session, string mountpoint);

    /// <summary>Serves requests on the calling thread until the session ends (unmount, or exit and a request).</summary>
    [LibraryImport(Library, EntryPoint = "fuse_session_loop")]
    public static partial int SessionLoop(nint session);

    [LibraryImport(Library, EntryPoint = "fuse_session_exit")]
    public static partial void SessionExit(nint session);

    [LibraryImport(Library, EntryPoint = "fuse_session_unmount")]
    public static partial void SessionUnmount(nint session);

    [LibraryImport(Library, EntryPoint = "fuse_session_destroy")]
    public static partial void SessionDestroy(nint session);

    /// <summary>The userdata given to <see cref="SessionNew"/>.</summary>
    [LibraryImport(Library, EntryPoint = "fuse_req_userdata")]
    public static partial nint RequestUserdata(nint request);

    [LibraryImport(Library, EntryPoint = "fuse_req_ctx")]
    public static partial FuseContext* RequestContext(nint request);

    /// <summary>The supplementary groups of the requesting process (from /proc); the count, or -errno.</summary>
    [LibraryImport(Library, EntryPoint = "fuse_req_getgroups")]
    public static partial int RequestGroups(nint request, int size, uint* list);

    [LibraryImport(Library, EntryPoint = "fuse_reply_err")]
    public static partial void ReplyErr(nint request, int errno);

    [LibraryImport(Library, EntryPoint = "fuse_reply_none")]
    public static partial void ReplyNone(nint request);

    [LibraryImport(Library, EntryPoint = "fuse_reply_entry")]
    public static partial void ReplyEntry(nint request, FuseEntryParam* entry);

    [LibraryImport(Library, EntryPoint = "fuse_reply_create")]
    public static partial void ReplyCreate(nint request, FuseEntryParam* entry, FuseFileInfo* file);

    [LibraryImport(Library, EntryPoint = "fuse_reply_attr")]
    public static partial void ReplyAttr(nint request, StatBuf* attributes, double timeout);

    [LibraryImport(Library, EntryPoint = "fuse_reply_readlink")]
    public static partial void ReplyReadlink(nint request, byte* target);

    [LibraryImport(Library, EntryPoint = "fuse_reply_open")]
    public static partial void ReplyOpen(nint request, FuseFileInfo* file);

    [LibraryImport(Library, EntryPoint = "fuse_reply_write")]
    public static partial void ReplyWrite(nint request, nuint count);

    [LibraryImport(Library, EntryPoint = "fuse_reply_buf")]
    public static partial void ReplyBuf(nint request, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "fuse_reply_statfs")]
    public static partial void ReplyStatfs(nint request, StatVfs* statistics);

    [LibraryImport(Library, EntryPoint = "fuse_reply_xattr")]
    public static partial void ReplyXattr(nint request, nuint count);

    [LibraryImport(Library, EntryPoint = "fuse_reply_lock")]
    public static partial void ReplyLock(nint request, FileLock* conflict);

    /// <summary>Whether the kernel interrupted the request (a signal to the process waiting in it): 1 or 0.</summary>
    [LibraryImport(Library, EntryPoint = "fuse_req_interrupted")]
    public static partial int RequestInterrupted(nint request);

    /// <summary>Adds one entry to a readdir reply buffer; the size it needs (larger than <paramref name="size"/>: it did not fit).</summary>
    [LibraryImport(Library, EntryPoint = "fuse_add_direntry")]
    public static partial nuint AddDirentry(nint request, byte* buffer, nuint size, byte* name, StatBuf* attributes, long nextOffset);
}

/// <summary>struct fuse_args.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseArgs
{
    public int Argc;
    public byte** Argv;
    public int Allocated;
}

/// <summary>struct fuse_ctx: who sent the request.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseContext
{
    public uint Uid;
    public uint Gid;
    public int Pid;
    public uint Umask;
}

/// <summary>struct fuse_file_info of libfuse 3.14 (40 bytes): flags, then a word of bit fields.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct FuseFileInfo
{
    private const uint DirectIoBit = 1u << 1;
    private const uint FlockReleaseBit = 1u << 5;
    private const uint NonseekableBit = 1u << 4;

    [FieldOffset(0)] public int Flags;
    [FieldOffset(4)] public uint Bits;
    [FieldOffset(16)] public ulong Handle;
    [FieldOffset(24)] public ulong LockOwner;

    /// <summary>In release: the closing file's flock must go (LockOwner names it).</summary>
    public readonly bool FlockRelease => (Bits & FlockReleaseBit) != 0;

    /// <summary>Reads and writes bypass the kernel's page cache and come to the file system.</summary>
    public bool DirectIo
    {
        readonly get => (Bits & DirectIoBit) != 0;
        set => Bits = value ? Bits | DirectIoBit : Bits & ~DirectIoBit;
    }
}

/// <summary>struct flock on x86-64 (32 bytes): a POSIX record lock; Length 0 is "to the end of file".</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct FileLock
{
    public const short ReadLock = 0;   // F_RDLCK
    public const short WriteLock = 1;  // F_WRLCK
    public const short Unlock = 2;     // F_UNLCK

    [FieldOffset(0)] public short Type;
    [FieldOffset(2)] public short Whence;
    [FieldOffset(8)] public long Start;
    [FieldOffset(16)] public long Length;
    [FieldOffset(24)] public int Pid;
}

/// <summary>struct fuse_entry_param (176 bytes): the inode a name resolves to and how long the kernel may keep it.</summary>
[StructLayout(LayoutKind.Explicit, Size = 176)]
public struct FuseEntryParam
{
    [FieldOffset(0)] public ulong Ino;
    [FieldOffset(8)] public ulong Generation;
    [FieldOffset(16)] public StatBuf Attributes;
    [FieldOffset(160)] public double AttributeTimeout;
    [FieldOffset(168)] public double EntryTimeout;
}

/// <summary>struct statvfs on x86-64 (112 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 112)]
public struct StatVfs
{
    [FieldOffset(0)] public ulong BlockSize;
    [FieldOffset(8)] public ulong FragmentSize;
    [FieldOffset(16)] public ulong Blocks;
    [FieldOffset(24)] public ulong BlocksFree;
    [FieldOffset(32)] public ulong BlocksAvailable;
    [FieldOffset(40)] public ulong Files;
    [FieldOffset(48)] public ulong FilesFree;
    [FieldOffset(56)] public ulong FilesAvailable;
    [FieldOffset(80)] public ulong NameMax;
}

/// <summary>
/// struct fuse_lowlevel_ops of libfuse 3.14: 44 callbacks in this order. A null one answers
/// ENOSYS (or what libfuse does by default for it).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseLowlevelOps
{
    public delegate* unmanaged<nint, nint, void> Init;
    public delegate* unmanaged<nint, void> Destroy;
    public delegate* unmanaged<nint, ulong, byte*, void> Lookup;
    public delegate* unmanaged<nint, ulong, ulong, void> Forget;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Getattr;
    public delegate* unmanaged<nint, ulong, StatBuf*, int, FuseFileInfo*, void> Setattr;
    public delegate* unmanaged<nint, ulong, void> Readlink;
    public delegate* unmanaged<nint, ulong, byte*, uint, ulong, void> Mknod;
    public delegate* unmanaged<nint, ulong, byte*, uint, void> Mkdir;
    public delegate* unmanaged<nint, ulong, byte*, void> Unlink;
    public delegate* unmanaged<nint, ulong, byte*, void> Rmdir;
    public delegate* unmanaged<nint, byte*, ulong, byte*, void> Symlink;
    public delegate* unmanaged<nint, ulong, byte*, ulong, byte*, uint, void> Rename;
    public delegate* unmanaged<nint, ulong, ulong, byte*, void> Link;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Open;
    public delegate* unmanaged<nint, ulong, nuint, long, FuseFileInfo*, void> Read;
    public delegate* unmanaged<nint, ulong, byte*, nuint, long, FuseFileInfo*, void> Write;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Flush;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Release;
    public delegate* unmanaged<nint, ulong, int, FuseFileInfo*, void> Fsync;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Opendir;
    public delegate* unmanaged<nint, ulong, nuint, long, FuseFileInfo*, void> Readdir;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Releasedir;
    public delegate* unmanaged<nint, ulong, int, FuseFileInfo*, void> Fsyncdir;
    public delegate* unmanaged<nint, ulong, void> Statfs;
    public delegate* unmanaged<nint, ulong, byte*, byte*, nuint, int, void> Setxattr;
    public delegate* unmanaged<nint, ulong, byte*, nuint, void> Getxattr;
    public delegate* unmanaged<nint, ulong, nuint, void> Listxattr;
    public delegate* unmanaged<nint, ulong, byte*, void> Removexattr;
    public delegate* unmanaged<nint, ulong, int, void> Access;
    public delegate* unmanaged<nint, ulong, byte*, uint, FuseFileInfo*, void> Create;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, FileLock*, void> Getlk;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, FileLock*, int, void> Setlk;
    public nint Bmap;
    public nint Ioctl;
    public nint Poll;
    public nint WriteBuf;
    public nint RetrieveReply;
    public nint ForgetMulti;
    public delegate* unmanaged<nint, ulong, FuseFileInfo*, int, void> Flock;
    public delegate* unmanaged<nint, ulong, int, long, long, FuseFileInfo*, void> Fallocate;
    public nint Readdirplus;
    public nint CopyFileRange;
    public nint Lseek;
}
