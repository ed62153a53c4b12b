using System.Globalization;

namespace Stargate.Bench;

/// <summary>
/// sgbench's result line, "sgbench workload=NAME bytes=B ops=N ns=T [key=value...]", as
/// words; every number is checked when asked for.
/// </summary>
public sealed class SgbenchResult
{
    private readonly Dictionary<string, string> _words;
    private readonly string _line;

    private SgbenchResult(Dictionary<string, string> words, string line)
    {
        _words = words;
        _line = line;
    }

    /// <summary>The result line among @lines (the tool's output), from guest @guest.</summary>
    public static SgbenchResult Parse(IReadOnlyList<string> lines, string guest)
    {
        string? line = lines.LastOrDefault(l => l.StartsWith("sgbench workload=", StringComparison.Ordinal));
        if (line is null)
        {
            throw new BenchException($"{guest}: sgbench printed no result line: {string.Join(" | ", lines.TakeLast(5))}");
        }

        var words = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            int eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new BenchException($"{guest}: sgbench's result line has a word that is not key=value: '{line}'");
            }

            words[word[..eq]] = word[(eq + 1)..];
        }

        return new SgbenchResult(words, line);
    }

    public string Text(string key) =>
        _words.TryGetValue(key, out string? value) ? value : throw new BenchException($"sgbench's result has no {key}=: '{_line}'");

    /// <summary>The non-negative whole number @key.</summary>
    public long Number(string key) =>
        long.TryParse(Text(key), NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new BenchException($"sgbench's {key}= is not a number: '{_line}'");

    /// <summary>ns= as seconds (it must be positive).</summary>
    public double Seconds
    {
        get
        {
            long ns = Number("ns");
            return ns > 0 ? ns / 1e9 : throw new BenchException($"sgbench measured no time: '{_line}'");
        }
    }
}
