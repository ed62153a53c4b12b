namespace Stargate.Host.Zones;

/// <summary>A run of a file: <see cref="ZoneOffset"/> 0 is a hole that reads as zeros.</summary>
internal readonly record struct Extent(ulong ZoneOffset, ulong Length)
{
    public bool IsHole => ZoneOffset == 0;
}
