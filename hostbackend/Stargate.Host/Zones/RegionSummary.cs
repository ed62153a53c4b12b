namespace Stargate.Host.Zones;

/// <summary>One region of the zone map `stargate zone info` prints.</summary>
public sealed record RegionSummary(string Name, ulong Offset, ulong Size);
