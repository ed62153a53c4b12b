namespace Stargate.Interop.Generator.Clang;

/// <summary>A spelling location: file, 1-based line and column, 0-based byte offset.</summary>
internal readonly record struct SourcePosition(string File, int Line, int Column, int Offset)
{
    public static unsafe SourcePosition From(CXSourceLocation location)
    {
        nint file;
        uint line, column, offset;
        LibClang.clang_getSpellingLocation(location, &file, &line, &column, &offset);
        string name = file == 0 ? string.Empty : LibClang.Take(LibClang.clang_getFileName(file));
        return new SourcePosition(name, (int)line, (int)column, (int)offset);
    }
}
