namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// The bytes `sgfstest fill`/`mmfill FILE OFFSET LENGTH SEED` write, computed on the host:
/// the byte at file offset o is byte (o % 8), little-endian, of splitmix64(o / 8 + splitmix64(SEED)).
/// It depends only on the seed and the absolute offset (guest-module-templates/tools/sgfstest.c).
/// </summary>
public static class FillPattern
{
    /// <summary>The pattern of @seed for file offsets [@offset, @offset + @length).</summary>
    public static byte[] Bytes(ulong seed, ulong offset, int length)
    {
        var bytes = new byte[length];
        Write(seed, offset, bytes);
        return bytes;
    }

    /// <summary>Fills @target with the pattern of @seed as if it sat at file offset @offset.</summary>
    public static void Write(ulong seed, ulong offset, Span<byte> target)
    {
        ulong key = SplitMix64(seed);
        for (int i = 0; i < target.Length; i++)
        {
            ulong o = offset + (ulong)i;
            target[i] = (byte)(SplitMix64((o / 8) + key) >> (int)(8 * (o % 8)));
        }
    }

    private static ulong SplitMix64(ulong x)
    {
        unchecked
        {
            x += 0x9e3779b97f4a7c15UL;
            x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9UL;
            x = (x ^ (x >> 27)) * 0x94d049bb133111ebUL;
            return x ^ (x >> 31);
        }
    }
}
