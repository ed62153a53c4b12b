namespace Stargate.Host.Zones;

/// <summary>Where a write's bytes come from.</summary>
public interface IDataSource
{
    /// <summary>Fills <paramref name="target"/> with the bytes at <paramref name="sourceOffset"/> of the source.</summary>
    void CopyTo(Span<byte> target, ulong sourceOffset);
}
