using System.Text.Json;

namespace Stargate.Host.Service;

/// <summary>One row of `stargate peers`: kind is host, guest (doorbell or adopted) or plain.</summary>
public sealed record PeerStatus(int Id, string Kind, int Pid, DateTimeOffset Since, int Vectors, ulong[] Doorbells)
{
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
