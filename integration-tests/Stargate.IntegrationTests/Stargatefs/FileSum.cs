using System.Globalization;
using Stargate.IntegrationTests.Guest;
using Stargate.Interop.Abi;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>A file's size and crc32c, as `sgfstest sum`/`mmsum` print them and as the host computes them.</summary>
public readonly record struct FileSum(ulong Size, uint Crc)
{
    public static FileSum Of(ReadOnlySpan<byte> data) => new((ulong)data.Length, Crc32C.Compute(data));

    /// <summary>The size= and crc= words of an sgfstest reply.</summary>
    public static FileSum Parse(GuestReply reply) => new(
        ulong.Parse(reply["size"], CultureInfo.InvariantCulture),
        uint.Parse(reply["crc"].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"size={Size} crc=0x{Crc:x8}");
}
