using System.Buffers.Binary;
using System.Numerics;

namespace Stargate.Interop.Abi;

/// <summary>
/// crc32c (Castagnoli) as the zone header defines it: initial value 0xffffffff,
/// final xor 0xffffffff; the check value of "123456789" is 0xe3069283.
/// Uses the SSE4.2 instruction through <see cref="BitOperations.Crc32C(uint, ulong)"/>.
/// </summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(0xffffffffu, data);

    /// <summary>Continues a running (not yet inverted) crc over <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
