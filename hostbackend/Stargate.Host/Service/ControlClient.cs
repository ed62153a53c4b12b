using Stargate.Host.Zones;

namespace Stargate.Host.Service;

/// <summary>A control connection: what it has sent so far, when it must have finished, and the host lock it waits for or holds.</summary>
internal sealed class ControlClient(DateTime deadline)
{
    public DateTime Deadline { get; set; } = deadline;

    public List<byte> Buffer { get; } = [];

    public (LockRequest Request, NodeRef File, ulong Owner)? Waiting { get; set; }

    public ulong? HeldBy { get; set; }
}
