using System.Text.Json;

namespace Stargate.Host.Service;

/// <summary>
/// One row of `stargate peers`: kind is host, guest (doorbell or adopted) or plain; a guest's
/// socket (null when it came through none this service knows) and export policy (rw or ro,
/// then root_squash).
/// </summary>
public sealed record PeerStatus(int Id, string Kind, int Pid, DateTimeOffset Since, int Vectors, ulong[] Doorbells)
{
    public string? Socket { get; init; }

    public string? Policy { get; init; }

    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
