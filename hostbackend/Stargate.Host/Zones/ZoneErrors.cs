using Stargate.Interop.Native;

namespace Stargate.Host.Zone;

/// <summary>The one mapping from a zone error to the positive Linux errno a guest's reply carries (docs/requests.md, Statuses).</summary>
public static class ZoneErrors
{
    // Linux x86-64 numbers the interop Errno class does not carry (uapi asm-generic/errno*.h).
    private const int EMLINK = 31;
    private const int ENOLCK = 37;
    private const int ESTALE = 116;

    public static int ToErrno(ZoneError error) => error switch
    {
        ZoneError.NotFound => Errno.ENOENT,
        ZoneError.Exists => Errno.EEXIST,
        ZoneError.NotDirectory => Errno.ENOTDIR,
        ZoneError.IsDirectory => Errno.EISDIR,
        ZoneError.NotEmpty => Errno.ENOTEMPTY,
        ZoneError.NameTooLong => Errno.ENAMETOOLONG,
        ZoneError.NoSpace => Errno.ENOSPC,
        ZoneError.InvalidArgument => Errno.EINVAL,
        ZoneError.FileTooLarge => Errno.EFBIG,
        ZoneError.ReadOnly => Errno.EROFS,
        ZoneError.Busy => Errno.EBUSY,
        ZoneError.Stale => ESTALE,
        ZoneError.AccessDenied => Errno.EACCES,
        ZoneError.NotPermitted => Errno.EPERM,
        ZoneError.NoLocks => ENOLCK,
        ZoneError.TooManyLinks => EMLINK,
        _ => Errno.EIO,
    };
}
