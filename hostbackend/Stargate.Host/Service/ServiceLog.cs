using Microsoft.Extensions.Logging;

namespace Stargate.Host.Service;

/// <summary>Every message the service logs besides the ivshmem server's and the request server's, source-generated.</summary>
internal static partial class ServiceLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "the data header of {Data} was overwritten (a guest wrote it): written again")]
    public static partial void DataHeaderRestored(ILogger log, string data);

    [LoggerMessage(Level = LogLevel.Information, Message = "serving {Zone} on {Socket} ({Vectors} vectors, up to {Peers} guests; control on {Control})")]
    public static partial void Serving(ILogger log, string zone, string socket, int vectors, int peers, string control);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id}: a previous service left it live, but its QEMU (pid {Pid}) is gone: cleaned up")]
    public static partial void ClearedStale(ILogger log, int id, ulong pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} adopted: its QEMU (pid {Pid}) still runs; served by polling")]
    public static partial void Adopted(ILogger log, int id, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} (pid {Pid}) left (its QEMU process is gone)")]
    public static partial void AdoptedGone(ILogger log, int id, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Id} (pid {Pid}): could not drop a host lock: {Error}")]
    public static partial void HostUnlockFailed(ILogger log, int id, int pid, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped; removed {Socket} and {Control}")]
    public static partial void Stopped(ILogger log, string socket, string control);

    [LoggerMessage(Level = LogLevel.Information, Message = "host mount: {Message}")]
    public static partial void HostMount(ILogger log, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "mapping session {Session} ended with {Files} files mapped{Why}")]
    public static partial void MappingSessionEnded(ILogger log, ulong session, int files, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not tell systemd: {Error}")]
    public static partial void NotifyFailed(ILogger log, string error);
}
