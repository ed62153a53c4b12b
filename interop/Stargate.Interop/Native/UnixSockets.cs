using System.Text;

namespace Stargate.Interop.Native;

/// <summary>
/// The socket operations the ivshmem server needs, over raw fds, every result
/// through <see cref="Sys"/>: listen and connect on a path, send one 8-byte
/// message with at most one fd (QEMU's protocol), and peer credentials.
/// </summary>
public static class UnixSockets
{
    /// <summary>
    /// A listening, non-blocking, close-on-exec unix stream socket bound to <paramref name="path"/>,
    /// whose file has exactly <paramref name="mode"/> (the umask does not count). The mode is
    /// set between bind and listen: until listen nobody can connect, so no client ever reaches
    /// the socket under bind's umask-derived mode. On failure the socket file made here is removed.
    /// </summary>
    public static unsafe int Listen(string path, int backlog, uint mode)
    {
        var address = Address(path);
        int fd = Sys.Check(Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0), "socket", path);
        bool bound = false;
        try
        {
            Sys.Check(Libc.Bind(fd, &address, (uint)sizeof(SockaddrUn)), "bind", path);
            bound = true;

            // chmod by path: a socket has no fd to fchmod its file. Only a user who may replace
            // entries of the socket's directory could swap the path in between; such a user
            // could take the path over anyway (and cannot in a sticky directory like /dev/shm).
            Sys.Check(Libc.Chmod(path, mode), "chmod", path);
            Sys.Check(Libc.Listen(fd, backlog), "listen", path);
            return fd;
        }
        catch
        {
            Libc.Close(fd);
            if (bound)
            {
                File.Delete(path);
            }

            throw;
        }
    }

    /// <summary>A blocking, close-on-exec unix stream socket connected to <paramref name="path"/>.</summary>
    public static unsafe int Connect(string path)
    {
        var address = Address(path);
        int fd = Sys.Check(Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket", path);
        try
        {
            Sys.Check(Libc.Connect(fd, &address, (uint)sizeof(SockaddrUn)), "connect", path);
            return fd;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>Accepts a pending connection as a blocking, close-on-exec fd; -1 if none is pending.</summary>
    public static int Accept(int listener)
    {
        int fd = Libc.Accept4(listener, 0, 0, Libc.SOCK_CLOEXEC);
        return Sys.Expect(fd, "accept4", null, Errno.EAGAIN, Errno.ECONNABORTED) == 0 ? fd : -1;
    }

    /// <summary>
    /// Sends one little-endian int64 with <paramref name="passFd"/> attached when it is not
    /// -1, in one sendmsg (QEMU reads one fd per 8-byte message). Never blocks: a peer whose
    /// socket buffer is full (it does not read) gets an error (EAGAIN) instead of stalling
    /// the sender.
    /// </summary>
    public static unsafe void SendMessage(int socket, long value, int passFd)
    {
        long payload = value; // x86-64 is little-endian, as the protocol is
        var iov = new IoVec { Base = &payload, Length = sizeof(long) };
        byte* control = stackalloc byte[24]; // CMSG_SPACE(sizeof(int))
        new Span<byte>(control, 24).Clear();
        var message = new MsgHdr { Iov = &iov, IovLength = 1 };
        if (passFd >= 0)
        {
            var header = (CmsgHdr*)control;
            header->Length = 20; // CMSG_LEN(sizeof(int))
            header->Level = Libc.SOL_SOCKET;
            header->Type = Libc.SCM_RIGHTS;
            *(int*)(control + sizeof(CmsgHdr)) = passFd;
            message.Control = control;
            message.ControlLength = 24;
        }

        long sent = Sys.Check(Libc.Sendmsg(socket, &message, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT), "sendmsg");
        if (sent != sizeof(long))
        {
            throw new IOException($"sendmsg sent {sent} of 8 bytes");
        }
    }

    /// <summary>
    /// Receives one 8-byte message and the fd attached to it (-1 if none): the client side
    /// of QEMU's protocol, used by `stargate peers` tests and tools. Returns false at EOF.
    /// </summary>
    public static unsafe bool ReceiveMessage(int socket, out long value, out int fd)
    {
        long payload = 0;
        var iov = new IoVec { Base = &payload, Length = sizeof(long) };
        byte* control = stackalloc byte[24];
        new Span<byte>(control, 24).Clear();
        var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 24 };
        long n = Sys.Check(Libc.Recvmsg(socket, &message, 0x40000000 /* MSG_CMSG_CLOEXEC */), "recvmsg");
        var header = (CmsgHdr*)control;
        fd = message.ControlLength >= 20 && header->Level == Libc.SOL_SOCKET && header->Type == Libc.SCM_RIGHTS
            ? *(int*)(control + sizeof(CmsgHdr)) : -1;
        value = payload;
        if (n == 0)
        {
            return false;
        }

        return n == sizeof(long) ? true : throw new IOException($"recvmsg got {n} of 8 bytes");
    }

    /// <summary>The pid, uid and gid of the process at the other end of a connected unix socket.</summary>
    public static unsafe UCred PeerCredentials(int socket)
    {
        UCred cred = default;
        uint length = (uint)sizeof(UCred);
        Sys.Check(Libc.Getsockopt(socket, Libc.SOL_SOCKET, Libc.SO_PEERCRED, &cred, &length), "getsockopt(SO_PEERCRED)");
        return cred;
    }

    /// <summary>Reads up to <paramref name="buffer"/>'s length without blocking: bytes read, 0 at EOF, -1 if nothing is there.</summary>
    public static unsafe int ReceiveNow(int socket, Span<byte> buffer)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            n = Libc.Recv(socket, p, (nuint)buffer.Length, Libc.MSG_DONTWAIT);
        }

        return Sys.Expect(n, "recv", null, Errno.EAGAIN, Errno.ECONNRESET) switch
        {
            0 => (int)n,
            Errno.EAGAIN => -1,
            _ => 0, // ECONNRESET: the peer is gone, as at EOF
        };
    }

    /// <summary>Sends what fits without blocking: bytes sent (0 when the buffer is full), -1 when the peer is gone (EPIPE, ECONNRESET).</summary>
    public static unsafe int SendNow(int socket, ReadOnlySpan<byte> buffer)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            n = Libc.Send(socket, p, (nuint)buffer.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
        }

        return Sys.Expect(n, "send", null, Errno.EAGAIN, Errno.EPIPE, Errno.ECONNRESET) switch
        {
            0 => (int)n,
            Errno.EAGAIN => 0,
            _ => -1,
        };
    }

    /// <summary>Sends all of <paramref name="buffer"/>, waiting for room as needed (a client's side, never serve's); IOException when the peer is gone.</summary>
    public static unsafe void SendAll(int socket, ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.Send(socket, p, (nuint)buffer.Length, Libc.MSG_NOSIGNAL);
            }

            switch (Sys.Expect(n, "send", null, Errno.EINTR, Errno.EPIPE, Errno.ECONNRESET))
            {
                case 0:
                    buffer = buffer[(int)n..];
                    break;
                case Errno.EINTR:
                    break;
                default:
                    throw new IOException("the other end closed the connection");
            }
        }
    }

    /// <summary>A new non-blocking, close-on-exec eventfd.</summary>
    public static int NewEventfd() =>
        Sys.Check(Libc.Eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");

    /// <summary>Adds 1 to an eventfd: the reader (QEMU, or this service) wakes.</summary>
    public static unsafe void Signal(int eventfd)
    {
        ulong one = 1;
        Sys.Check(Libc.Write(eventfd, &one, sizeof(ulong)), "write(eventfd)");
    }

    /// <summary>Reads and resets an eventfd's count (0 if it had none): signals coalesce.</summary>
    public static unsafe ulong Drain(int eventfd)
    {
        ulong count = 0;
        return Sys.Expect(Libc.Read(eventfd, &count, sizeof(ulong)), "read(eventfd)", null, Errno.EAGAIN) == 0 ? count : 0;
    }

    private static unsafe SockaddrUn Address(string path)
    {
        var address = new SockaddrUn { Family = Libc.AF_UNIX };
        int length = Encoding.UTF8.GetByteCount(path);
        if (length >= SockaddrUn.PathMax)
        {
            throw new ArgumentException($"socket path '{path}' is {length} bytes; unix sockets allow at most {SockaddrUn.PathMax - 1}", nameof(path));
        }

        Encoding.UTF8.GetBytes(path, new Span<byte>(address.Path, SockaddrUn.PathMax));
        return address;
    }
}
