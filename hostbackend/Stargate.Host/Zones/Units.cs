using System.Globalization;

namespace Stargate.Host.Zones;

/// <summary>Sizes as people write them ("64G", "16MiB", "4096") and as the zone prints them.</summary>
public static class Units
{
    public static ulong RoundUp(ulong value, ulong multiple) => (value + multiple - 1) / multiple * multiple;

    public static ulong RoundDown(ulong value, ulong multiple) => value / multiple * multiple;

    /// <summary>Parses a byte count with an optional K/M/G/T suffix (binary: 1K = 1024), "iB" or "B" allowed.</summary>
    public static bool TryParseSize(string text, out ulong bytes)
    {
        bytes = 0;
        string s = text.Trim();
        if (s.EndsWith("iB", StringComparison.OrdinalIgnoreCase))
        {
            s = s[..^2];
        }
        else if (s.EndsWith('B') || s.EndsWith('b'))
        {
            s = s[..^1];
        }

        int shift = 0;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            shift = char.ToUpperInvariant(s[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => -1 };
            s = s[..^1];
        }

        if (shift < 0 || !ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n))
        {
            return false;
        }

        if (shift > 0 && n > ulong.MaxValue >> shift)
        {
            return false;
        }

        bytes = n << shift;
        return true;
    }

    /// <summary>"64 GiB", "1.5 MiB", "512 B".</summary>
    public static string Bytes(ulong n)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = n;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }

        return u == 0 ? $"{n} B" : v.ToString(v % 1 == 0 ? "0" : "0.#", CultureInfo.InvariantCulture) + " " + units[u];
    }
}
