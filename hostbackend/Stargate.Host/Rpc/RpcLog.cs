using Microsoft.Extensions.Logging;

namespace Stargate.Host.Rpc;

/// <summary>Every message the request server logs, source-generated.</summary>
internal static partial class RpcLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "peer {Slot} request {Seq}: status {Status} ({Why})")]
    public static partial void Refused(ILogger log, int slot, ulong seq, int status, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "{What} failed: {Kind}: {Error} ({Suppressed} more like it were not logged)")]
    public static partial void Fault(ILogger log, string what, string kind, string error, int suppressed);
}
