namespace Stargate.Interop.Generator.Reading;

/// <summary>The header's comments as plain lines for XML docs.</summary>
internal static class Comments
{
    /// <summary>
    /// Turns <c>/* ... */</c> or <c>// ...</c> text into lines: the markers and the <c> * </c>
    /// gutter removed, indentation after the gutter kept (so byte maps stay aligned), blank
    /// lines at either end dropped.
    /// </summary>
    public static IReadOnlyList<string> Clean(string raw)
    {
        var lines = new List<string>();
        foreach (string rawLine in raw.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            string line = rawLine.Trim();
            if (line.StartsWith("/*", StringComparison.Ordinal))
            {
                line = line[2..];
            }

            if (line.EndsWith("*/", StringComparison.Ordinal))
            {
                line = line[..^2];
            }

            line = line.TrimEnd();
            if (line.StartsWith("//", StringComparison.Ordinal))
            {
                line = line.TrimStart('/');
            }
            else if (line.StartsWith('*'))
            {
                line = line[1..];
            }

            lines.Add(line.StartsWith(' ') ? line[1..] : line);
        }

        int first = lines.FindIndex(l => l.Length > 0);
        int last = lines.FindLastIndex(l => l.Length > 0);
        return first < 0 ? [] : lines[first..(last + 1)];
    }

    /// <summary>
    /// The comment that ends on the line just above <paramref name="line"/> (1-based), cleaned;
    /// empty when there is none. Used for macros, to which libclang attaches no comments.
    /// </summary>
    public static IReadOnlyList<string> Above(HeaderText text, int line)
    {
        int end = line - 2;
        if (end < 0)
        {
            return [];
        }

        string last = text.Lines[end].Trim();
        int start = end;
        if (last.StartsWith("//", StringComparison.Ordinal))
        {
            while (start > 0 && text.Lines[start - 1].TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                start--;
            }
        }
        else if (last.EndsWith("*/", StringComparison.Ordinal))
        {
            while (start >= 0 && !text.Lines[start].Contains("/*", StringComparison.Ordinal))
            {
                start--;
            }

            // A comment that trails code ("#define A 1 /* a */") belongs to that code.
            if (start < 0 || !text.Lines[start].TrimStart().StartsWith("/*", StringComparison.Ordinal))
            {
                return [];
            }
        }
        else
        {
            return [];
        }

        return Clean(string.Join('\n', text.Lines.Skip(start).Take(end - start + 1)));
    }
}
