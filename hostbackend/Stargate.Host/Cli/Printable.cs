using System.Globalization;
using System.Text;

namespace Stargate.Host.Cli;

/// <summary>
/// The one way a string that came from a zone or a peer (a file name, the writer's recorded
/// command, a message that quotes either) reaches a terminal: control characters written as
/// escapes, so that a name cannot move the cursor, change colours, clear the screen or forge
/// an output line. `\n`, `\r` and `\t` as such, every other C0 character, DEL and C1
/// (U+0080..U+009F) as `\xNN`, and a backslash doubled, so an escape reads back one way only.
/// Applied where text is written, once: JSON output needs none (the serializer escapes).
/// </summary>
internal static class Printable
{
    private static readonly System.Buffers.SearchValues<char> Special = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(i => (char)i), '\\', .. Enumerable.Range(0x7f, 0x21).Select(i => (char)i)]);

    public static string Escape(string text)
    {
        if (!text.AsSpan().ContainsAny(Special))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\\':
                    escaped.Append(@"\\");
                    break;
                case '\n':
                    escaped.Append(@"\n");
                    break;
                case '\r':
                    escaped.Append(@"\r");
                    break;
                case '\t':
                    escaped.Append(@"\t");
                    break;
                case < ' ' or (>= '\x7f' and <= '\x9f'):
                    escaped.Append(CultureInfo.InvariantCulture, $@"\x{(int)c:x2}");
                    break;
                default:
                    escaped.Append(c);
                    break;
            }
        }

        return escaped.ToString();
    }
}
