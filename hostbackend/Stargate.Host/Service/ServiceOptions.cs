namespace Stargate.Host.Service;

/// <summary>What `stargate serve` was asked for: the ivshmem socket, the control socket, vectors per peer and the most guests at once.</summary>
public sealed record ServiceOptions(string SocketPath, string ControlPath, int Vectors, int MaxPeers);
