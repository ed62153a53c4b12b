using System.Text.Json;
using Stargate.Host.Rpc;

namespace Stargate.Host.Service;

/// <summary>
/// One row of `stargate peers`: kind is host, guest (doorbell or adopted) or plain; a guest's
/// socket (null when it came through none this service knows) and export policy (rw or ro,
/// then root_squash); a guest's worst time, in microseconds, from the service's loop seeing one of
/// its requests to the reply (null before its first reply; see RequestServer.Latency); and the
/// grace period's epoch: on the host row the last one posted, on a guest row the last one the
/// guest acknowledged (null for a guest the grace period does not track: one that went live
/// after the last post, so none of the pages still pending wait for it).
/// </summary>
public sealed record PeerStatus(int Id, string Kind, int Pid, DateTimeOffset Since, int Vectors, ulong[] Doorbells)
{
    public string? Socket { get; init; }

    public string? Policy { get; init; }

    public long? WorstReplyUs { get; init; }

    /// <summary>A guest's answered requests and the service's time in each step of them (null before its first).</summary>
    public RequestCost? Cost { get; init; }

    public ulong? GraceEpoch { get; init; }

    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
