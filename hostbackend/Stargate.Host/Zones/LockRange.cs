namespace Stargate.Host.Zones;

/// <summary>A lock asked for: Kind SGZ_LOCK_KIND_*, Type SGZ_LOCK_READ/WRITE/UNLOCK, Start..End inclusive (End SGZ_LOCK_EOF = to end of file; flock ignores the range).</summary>
public readonly record struct LockRange(int Kind, int Type, ulong Start, ulong End);
