namespace Stargate.Host.Zones;

/// <summary>Where a read's bytes go.</summary>
public interface IDataSink
{
    void Write(ReadOnlySpan<byte> data, ulong sinkOffset);

    /// <summary>A hole of <paramref name="length"/> zero bytes at <paramref name="sinkOffset"/>.</summary>
    void Hole(ulong sinkOffset, ulong length);
}
