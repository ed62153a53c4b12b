namespace Stargate.Host.Zones;

/// <summary>The lock that refused a request: its type (SGZ_LOCK_READ or WRITE), process and inclusive range.</summary>
public readonly record struct LockConflict(int Type, uint Pid, ulong Start, ulong End);
