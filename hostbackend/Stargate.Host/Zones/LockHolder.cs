namespace Stargate.Host.Zones;

/// <summary>Who holds a lock: a peer slot and that peer's opaque owner id; Pid is what another machine's F_GETLK reports.</summary>
public readonly record struct LockHolder(int Slot, ulong Owner, uint Pid);
