using Stargate.Interop.Native;

namespace Stargate.Host.Zone;

/// <summary>What went wrong, as a user or a guest's reply sees it; each maps to one errno.</summary>
public enum ZoneError
{
    NotAZone,
    VersionTooNew,
    Corrupt,
    Busy,
    ReadOnly,
    NotFound,
    Exists,
    NotDirectory,
    IsDirectory,
    NotEmpty,
    NameTooLong,
    NoSpace,
    InvalidArgument,
    FileTooLarge,
}

/// <summary>A zone operation that failed; the message is one line fit for a user.</summary>
public class ZoneException(ZoneError error, string message) : Exception(message)
{
    public ZoneError Error { get; } = error;

    /// <summary>The errno a guest's reply carries for this error.</summary>
    public int Errno => Error switch
    {
        ZoneError.NotFound => Interop.Native.Errno.ENOENT,
        ZoneError.Exists => Interop.Native.Errno.EEXIST,
        ZoneError.NotDirectory => Interop.Native.Errno.ENOTDIR,
        ZoneError.IsDirectory => Interop.Native.Errno.EISDIR,
        ZoneError.NotEmpty => Interop.Native.Errno.ENOTEMPTY,
        ZoneError.NameTooLong => Interop.Native.Errno.ENAMETOOLONG,
        ZoneError.NoSpace => Interop.Native.Errno.ENOSPC,
        ZoneError.InvalidArgument => Interop.Native.Errno.EINVAL,
        ZoneError.FileTooLarge => Interop.Native.Errno.EFBIG,
        ZoneError.ReadOnly => Interop.Native.Errno.EROFS,
        ZoneError.Busy => Interop.Native.Errno.EBUSY,
        _ => Interop.Native.Errno.EIO,
    };
}

/// <summary>A structure in the zone failed a check: names the structure and where it is.</summary>
public sealed class ZoneCorruptException(string message) : ZoneException(ZoneError.Corrupt, message);

/// <summary>Thrown by the fault-injection hook to stop a change dead, as a killed writer would.</summary>
internal sealed class SimulatedCrashException() : Exception("simulated crash");
