using Stargate.Host.Rpc;

namespace Stargate.Host.Service;

/// <summary>
/// What `stargate serve` was asked for: the ivshmem socket (it also names the control socket
/// and the service) with its export policy, any further sockets with theirs, the control
/// socket, vectors per peer and the most guests at once.
/// </summary>
public sealed record ServiceOptions(string SocketPath, string ControlPath, int Vectors, int MaxPeers)
{
    /// <summary>The export policy of the guests that come through <see cref="SocketPath"/>.</summary>
    public ExportPolicy Policy { get; init; } = ExportPolicy.ReadWrite;

    /// <summary>Sockets besides the first, each with its own policy (`--socket` given again).</summary>
    public IReadOnlyList<ExportSocket> MoreSockets { get; init; } = [];

    /// <summary>Every socket the service listens on, the first one first.</summary>
    public IReadOnlyList<ExportSocket> Sockets => [new(SocketPath, Policy), .. MoreSockets];
}
