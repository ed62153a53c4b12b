using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;

namespace Stargate.Host.Service;

/// <summary>
/// What `stargate serve` was asked for: the ivshmem socket (it also names the control socket
/// and the service) with its export policy, any further sockets with theirs, the control
/// socket, vectors per peer, the most guests at once, and who besides the service's user and
/// root may connect.
/// </summary>
public sealed record ServiceOptions(string SocketPath, string ControlPath, int Vectors, int MaxPeers)
{
    /// <summary>Who may connect to every socket besides the service's user and root.</summary>
    public PeerAccess Access { get; init; } = PeerAccess.OwnerAndRoot;

    /// <summary>The export policy of the guests that come through <see cref="SocketPath"/>.</summary>
    public ExportPolicy Policy { get; init; } = ExportPolicy.ReadWrite;

    /// <summary>Sockets besides the first, each with its own policy (`--socket` given again).</summary>
    public IReadOnlyList<ExportSocket> MoreSockets { get; init; } = [];

    /// <summary>
    /// The longest the loop keeps looking at the rings after answering a request, before it
    /// sleeps until a doorbell (docs/requests.md "Polling"; <see cref="Service.PollWindow"/>
    /// adapts the look within it): a guest's next request often comes within it and is then
    /// taken without a wake-up. Zero: never polls.
    /// </summary>
    public TimeSpan PollWindow { get; init; } = ServerLimits.DefaultPollWindow;

    /// <summary>Every socket the service listens on, the first one first.</summary>
    public IReadOnlyList<ExportSocket> Sockets => [new(SocketPath, Policy), .. MoreSockets];
}
