using Microsoft.Extensions.Logging;

namespace Stargate.Host.Ivshmem;

/// <summary>Every message the ivshmem server logs, source-generated.</summary>
internal static partial class IvshmemLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "doorbell to the host on vector {Vector} ({Count})")]
    public static partial void HostDoorbell(ILogger log, int vector, ulong count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a connection from pid {Pid}: all {Max} guest ids are taken")]
    public static partial void Full(ILogger log, int pid, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a connection on {Socket} from pid {Pid} uid {Uid}: {Why}")]
    public static partial void Refused(ILogger log, string socket, int pid, uint uid, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not set up a peer for pid {Pid}: {Error}")]
    public static partial void SetupFailed(ILogger log, int pid, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} joined: pid {Pid}, {Vectors} vectors")]
    public static partial void Joined(ILogger log, int id, int pid, int vectors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Id} (pid {Pid}): {Error}")]
    public static partial void SendFailed(ILogger log, int id, int pid, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} (pid {Pid}) {Why}")]
    public static partial void Dropped(ILogger log, int id, int pid, string why);

    [LoggerMessage(Level = LogLevel.Debug, Message = "rang peer {Id} on vector {Vector}")]
    public static partial void Rang(ILogger log, int id, int vector);
}
