using System.Globalization;

namespace Stargate.Interop.Tests;

/// <summary>
/// Persisted numbers (magic, versions, type codes, flags, struct sizes) are frozen in
/// golden/abi-values.txt: a value there may never change or disappear; a new one is added.
/// </summary>
public class GoldenValuesTests
{
    private const string SizePrefix = "sizeof ";

    [Fact]
    public void GoldenValues_AreAllStillDefinedWithTheSameValue()
    {
        Dictionary<string, Int128> current = CurrentValues();

        string[] broken =
        [
            .. ReadGolden().Select(golden => current.TryGetValue(golden.Key, out Int128 now)
                    ? now == golden.Value ? null : $"{golden.Key} was {golden.Value}, is now {now}"
                    : $"{golden.Key} (= {golden.Value}) is gone")
                .OfType<string>(),
        ];

        Assert.True(broken.Length == 0,
            "persisted values may only grow, never change or disappear:\n  " + string.Join("\n  ", broken));
    }

    [Fact]
    public void EveryAbiConstantAndStructSize_IsInTheGoldenFile()
    {
        Dictionary<string, Int128> golden = ReadGolden();

        string[] missing =
        [
            .. MirrorTypes.Constants.Where(c => !golden.ContainsKey(c.Name)).Select(Line),
            .. MirrorTypes.Structs.Where(s => !golden.ContainsKey(SizePrefix + s.Type.Name)).Select(Line),
        ];

        Assert.True(missing.Length == 0,
            $"new ABI values are not frozen yet; add these lines to {RepoFiles.GoldenPath}:\n" + string.Join('\n', missing));
    }

    private static Dictionary<string, Int128> CurrentValues()
    {
        var values = MirrorTypes.Constants.ToDictionary(c => c.Name, c => c.Number);
        foreach (MirrorStruct layout in MirrorTypes.Structs)
        {
            values.Add(SizePrefix + layout.Type.Name, layout.Size);
        }

        return values;
    }

    /// <summary>The golden file: <c>Name = value</c> lines (value decimal or 0x hex), # comments.</summary>
    private static Dictionary<string, Int128> ReadGolden()
    {
        var values = new Dictionary<string, Int128>(StringComparer.Ordinal);
        string[] lines = File.ReadAllLines(RepoFiles.Golden);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] parts = line.Split('=', 2, StringSplitOptions.TrimEntries);
            Assert.True(parts.Length == 2 && TryParse(parts[1], out Int128 value) && values.TryAdd(parts[0], value),
                $"{RepoFiles.GoldenPath}({i + 1}): expected a new 'Name = value' line, found '{line}'");
        }

        return values;
    }

    private static bool TryParse(string text, out Int128 value)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            bool parsed = ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hex);
            value = hex;
            return parsed;
        }

        return Int128.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static string Line(MirrorConstant constant) =>
        constant.Type == typeof(ulong) || constant.Type == typeof(uint)
            ? $"{constant.Name} = 0x{((ulong)constant.Number).ToString("x", CultureInfo.InvariantCulture)}"
            : $"{constant.Name} = {constant.Number.ToString(CultureInfo.InvariantCulture)}";

    private static string Line(MirrorStruct layout) =>
        $"{SizePrefix}{layout.Type.Name} = {layout.Size.ToString(CultureInfo.InvariantCulture)}";
}
