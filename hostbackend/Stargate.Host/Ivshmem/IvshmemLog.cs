using Microsoft.Extensions.Logging;

namespace Stargate.Host.Ivshmem;

/// <summary>Every message the ivshmem server logs, source-generated.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "serving {Zone} on {Socket} ({Vectors} vectors, up to {Peers} guests; control on {Control})")]
    public static partial void Serving(ILogger log, string zone, string socket, int vectors, int peers, string control);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id}: a previous service left it live, but its QEMU (pid {Pid}) is gone: cleaned up")]
    public static partial void ClearedStale(ILogger log, int id, ulong pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} adopted: its QEMU (pid {Pid}) still runs; served by polling")]
    public static partial void Adopted(ILogger log, int id, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} adopted: a plain guest (no doorbells) holds its claim; served by polling while its heartbeat goes on")]
    public static partial void PlainAdopted(ILogger log, int id);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} joined: a plain guest (no doorbells) claimed the slot; served by polling")]
    public static partial void PlainJoined(ILogger log, int id);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} (plain) {Why}: it departs")]
    public static partial void PlainLeft(ILogger log, int id, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not make a plain guest's claim a peer: {Error}")]
    public static partial void PlainJoinFailed(ILogger log, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "doorbell to the host on vector {Vector} ({Count})")]
    public static partial void HostDoorbell(ILogger log, int vector, ulong count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a connection from pid {Pid}: all {Max} guest ids are taken")]
    public static partial void Full(ILogger log, int pid, int max);

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

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped; removed {Socket} and {Control}")]
    public static partial void Stopped(ILogger log, string socket, string control);
}
