namespace Stargate.Interop.Native;

/// <summary>
/// Unix stream sockets with fd passing (SCM_RIGHTS), which .NET does not offer
/// (dotnet/runtime#932). Raw fds throughout: a .NET Socket turns its fd
/// non-blocking after any async operation while still saying it blocks.
/// </summary>
public static partial class Libc
{
    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOL_SOCKET = 1;
    public const int SO_PEERCRED = 17;
    public const int SCM_RIGHTS = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_DONTWAIT = 0x40;
    public const int SHUT_RDWR = 2;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static unsafe partial int Bind(int fd, SockaddrUn* address, uint length);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static unsafe partial int Connect(int fd, SockaddrUn* address, uint length);

    [LibraryImport("libc", EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, nint address, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static unsafe partial nint Sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static unsafe partial nint Recvmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static unsafe partial nint Recv(int fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static unsafe partial nint Send(int fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static unsafe partial int Getsockopt(int fd, int level, int name, void* value, uint* length);
}

/// <summary>struct sockaddr_un (110 bytes): family, then a NUL-terminated path of at most 107 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SockaddrUn
{
    public const int PathMax = 108;
    public ushort Family;
    public fixed byte Path[PathMax];
}

/// <summary>struct msghdr (56 bytes on x86-64).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}

/// <summary>struct iovec.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}

/// <summary>struct cmsghdr header (16 bytes); CMSG_LEN(4) = 20, CMSG_SPACE(4) = 24 on x86-64.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CmsgHdr
{
    public nuint Length;
    public int Level;
    public int Type;
}

/// <summary>struct ucred, as SO_PEERCRED gives it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct UCred
{
    public int Pid;
    public uint Uid;
    public uint Gid;
}
