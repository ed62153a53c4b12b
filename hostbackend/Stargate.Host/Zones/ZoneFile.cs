using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>Opens zone files with open(2) itself, so that the only lock on them is the zone's own flock.</summary>
internal static class ZoneFile
{
    public enum Mode
    {
        Read,
        ReadWrite,
        CreateNew,
        /// <summary>Create, or open as it is: truncating is the caller's, after it holds the lock.</summary>
        CreateOrOpen,
    }

    /// <param name="path">The file.</param>
    /// <param name="mode">How to open it.</param>
    /// <param name="zonePath">For a zone's data file: the zone (structure file) it belongs to, named when it is missing.</param>
    public static SafeFileHandle Open(string path, Mode mode, string? zonePath = null)
    {
        int flags = Libc.O_CLOEXEC | mode switch
        {
            Mode.Read => Libc.O_RDONLY,
            Mode.ReadWrite => Libc.O_RDWR,
            Mode.CreateNew => Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL,
            _ => Libc.O_RDWR | Libc.O_CREAT,
        };
        // A new zone is its owner's alone from the first instant (ZoneFormatter sets the final mode).
        int fd = Libc.Open(path, flags, 0x180 /* 0600 */);
        int errno = Sys.ErrnoOf(fd);
        return errno switch
        {
            0 => new SafeFileHandle(fd, ownsHandle: true),
            Errno.ENOENT when zonePath is not null && mode is Mode.Read or Mode.ReadWrite =>
                throw new ZoneException(ZoneError.NotFound, $"{path}: no such file: the data file of zone {zonePath} is missing (a zone is two files, {zonePath} and {path})"),
            Errno.ENOENT when mode is Mode.Read or Mode.ReadWrite => throw new ZoneException(ZoneError.NotFound, $"{path}: no such zone file"),
            Errno.ENOENT => throw new ZoneException(ZoneError.NotFound, $"{path}: the directory does not exist"),
            Errno.EEXIST => throw new ZoneException(ZoneError.Exists, $"{path} already exists; pass --force to format over it (its contents are lost)"),
            Errno.EACCES or Errno.EPERM or Errno.EROFS => throw new ZoneException(ZoneError.ReadOnly, $"{path}: permission denied{(mode == Mode.Read ? string.Empty : " (opening for writing)")}"),
            Errno.EISDIR => throw new ZoneException(ZoneError.IsDirectory, $"{path} is a directory, not a zone file"),
            _ => throw new NativeException("open", path, errno),
        };
    }
}
