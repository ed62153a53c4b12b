namespace Stargate.Interop.Generator;

/// <summary>A one-paragraph summary of how two texts differ: line counts and the first differing line.</summary>
public static class TextDiff
{
    /// <summary>Null when the texts are equal.</summary>
    public static string? Summarize(string expected, string actual)
    {
        if (expected == actual)
        {
            return null;
        }

        string[] want = expected.Split('\n');
        string[] have = actual.Split('\n');
        int line = 0;
        while (line < want.Length && line < have.Length && want[line] == have[line])
        {
            line++;
        }

        string Show(string[] lines) => line < lines.Length ? lines[line].TrimEnd('\r') : "(end of file)";
        return $"{want.Length} lines expected, {have.Length} found; first difference at line {line + 1}:\n" +
               $"  expected: {Show(want)}\n" +
               $"  found:    {Show(have)}";
    }
}
