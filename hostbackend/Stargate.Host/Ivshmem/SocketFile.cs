using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The unix socket files the service listens on. A path is taken only when nothing is there,
/// or when what is there is a stale socket of this service's own uid (one nobody answers on,
/// left by a service that died): never a live server's, another user's, or anything that is
/// not a socket (a symlink included).
/// </summary>
internal static class SocketFile
{
    /// <summary>
    /// Listens on <paramref name="path"/> with its file at <paramref name="mode"/>, removing
    /// a stale socket of ours first; anything else there is refused with one line, and stays.
    /// </summary>
    public static int Listen(string path, uint mode)
    {
        int errno = Sys.ErrnoOf(Libc.Lstat(path, out var status));
        if (errno == 0)
        {
            uint own = Libc.Getuid();
            if (status.Type != Libc.S_IFSOCK)
            {
                throw new ZoneException(ZoneError.Exists, $"{path} exists and is {Kind(status.Type)}, not a socket; remove it or choose another socket path");
            }

            if (status.Uid != own)
            {
                throw new ZoneException(ZoneError.NotPermitted, $"{path} is a socket of uid {status.Uid}, not of this service's user (uid {own}); a service replaces only its own stale sockets: choose another socket path");
            }

            int probe;
            try
            {
                probe = UnixSockets.Connect(path);
            }
            catch (NativeException)
            {
                probe = -1;
            }

            if (probe >= 0)
            {
                Libc.Close(probe);
                throw new ZoneException(ZoneError.Busy, $"{path}: another server is listening there; stop it or choose another socket path");
            }

            File.Delete(path); // nobody answers: a socket left by a service of ours that died
        }
        else if (errno != Errno.ENOENT)
        {
            throw Sys.Failure(errno, "lstat", path);
        }

        return UnixSockets.Listen(path, 64, mode);
    }

    /// <summary>Closes a listening socket and removes its file.</summary>
    public static void Close(int listener, string path)
    {
        Libc.Close(listener);
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    private static string Kind(uint type) => type switch
    {
        Libc.S_IFDIR => "a directory",
        Libc.S_IFLNK => "a symlink",
        Libc.S_IFREG => "a regular file",
        _ => "a special file",
    };
}
