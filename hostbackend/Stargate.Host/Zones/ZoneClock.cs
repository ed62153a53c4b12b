namespace Stargate.Host.Zones;

/// <summary>Times as the zone stores them: nanoseconds since the Unix epoch.</summary>
public static class ZoneClock
{
    public static ulong NowNs() => (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    public static DateTimeOffset ToDateTime(ulong ns) => DateTimeOffset.UnixEpoch.AddTicks((long)(ns / 100));
}
