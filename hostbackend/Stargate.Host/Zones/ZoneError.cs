namespace Stargate.Host.Zones;

/// <summary>What went wrong, as a user or a guest's reply sees it; each maps to one errno.</summary>
public enum ZoneError
{
    NotAZone,
    VersionTooNew,
    VersionUnsupported,
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

    /// <summary>The inode is free, or has another generation than the caller knows.</summary>
    Stale,
    AccessDenied,
    NotPermitted,

    /// <summary>The lock table has no free slot.</summary>
    NoLocks,
    TooManyLinks,

    /// <summary>No extended attribute of that name (ENODATA).</summary>
    NoData,

    /// <summary>An xattr namespace the zone does not keep (EOPNOTSUPP).</summary>
    NotSupported,
}

/// <summary>A zone operation that failed; the message is one line fit for a user.</summary>
public class ZoneException(ZoneError error, string message) : Exception(message)
{
    public ZoneError Error { get; } = error;

    /// <summary>The errno a guest's reply carries for this error.</summary>
    public int Errno => ZoneErrors.ToErrno(Error);
}

/// <summary>
/// A guest holds what a change needs (an inode's seqcount or lock word) for longer than the
/// zone's <see cref="Zone.GuestWaitMs"/>: the change was not made and may be tried again.
/// </summary>
public sealed class GuestHoldsException(string message) : ZoneException(ZoneError.Busy, message);

/// <summary>A structure in the zone failed a check: names the structure and where it is.</summary>
public sealed class ZoneCorruptException(string message) : ZoneException(ZoneError.Corrupt, message);

/// <summary>Thrown by the fault-injection hook to stop a change dead, as a killed writer would.</summary>
internal sealed class SimulatedCrashException() : Exception("simulated crash");
