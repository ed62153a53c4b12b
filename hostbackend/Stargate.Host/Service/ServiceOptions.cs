using Stargate.Host.Ivshmem;

namespace Stargate.Host.Service;

/// <summary>
/// What `stargate serve` was asked for: the ivshmem socket, the control socket, vectors per
/// peer, the most guests at once, and who besides the service's user and root may connect.
/// </summary>
public sealed record ServiceOptions(string SocketPath, string ControlPath, int Vectors, int MaxPeers)
{
    public PeerAccess Access { get; init; } = PeerAccess.OwnerAndRoot;
}
