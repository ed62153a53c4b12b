namespace Stargate.Codegen.Diagnostics;

/// <summary>
/// One problem, in the form compilers and editors understand: <c>file(line,col): error: message</c>.
/// Line and column are 1-based; a problem with no better place points at (1,1) of the file.
/// </summary>
internal sealed record Diagnostic(string File, int Line, int Column, string Message)
{
    public static Diagnostic At(string file, string message) => new(file, 1, 1, message);

    /// <summary>The 1-based line and column of a character offset in a text.</summary>
    public static Diagnostic AtOffset(string file, string text, int offset, string message)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < offset && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new Diagnostic(file, line, offset - lineStart + 1, message);
    }

    public override string ToString() => $"{File}({Line},{Column}): error: {Message}";
}
