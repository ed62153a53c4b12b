using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>The one mapping from a zone error to the status a guest's reply carries (SGZ_STATUS_* of stargate_zone.h; docs/requests.md, Statuses).</summary>
public static class ZoneErrors
{
    public static int ToErrno(ZoneError error) => error switch
    {
        ZoneError.NotFound => SgzAbi.StatusEnoent,
        ZoneError.Exists => SgzAbi.StatusEexist,
        ZoneError.NotDirectory => SgzAbi.StatusEnotdir,
        ZoneError.IsDirectory => SgzAbi.StatusEisdir,
        ZoneError.NotEmpty => SgzAbi.StatusEnotempty,
        ZoneError.NameTooLong => SgzAbi.StatusEnametoolong,
        ZoneError.NoSpace => SgzAbi.StatusEnospc,
        ZoneError.InvalidArgument => SgzAbi.StatusEinval,
        ZoneError.FileTooLarge => SgzAbi.StatusEfbig,
        ZoneError.ReadOnly => SgzAbi.StatusErofs,
        ZoneError.Busy => SgzAbi.StatusEbusy,
        ZoneError.Stale => SgzAbi.StatusEstale,
        ZoneError.AccessDenied => SgzAbi.StatusEacces,
        ZoneError.NotPermitted => SgzAbi.StatusEperm,
        ZoneError.NoLocks => SgzAbi.StatusEnolck,
        ZoneError.TooManyLinks => SgzAbi.StatusEmlink,
        ZoneError.NoData => SgzAbi.StatusEnodata,
        ZoneError.NotSupported => SgzAbi.StatusEopnotsupp,
        _ => SgzAbi.StatusEio,
    };
}
