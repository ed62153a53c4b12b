namespace Stargate.Interop.Generator.Clang;

/// <summary>Source locations and ranges.</summary>
internal static unsafe partial class LibClang
{
    [LibraryImport(Library)]
    public static partial void clang_getSpellingLocation(
        CXSourceLocation location, nint* file, uint* line, uint* column, uint* offset);

    [LibraryImport(Library)]
    public static partial int clang_Location_isFromMainFile(CXSourceLocation location);

    [LibraryImport(Library)]
    public static partial CXSourceLocation clang_getRangeStart(CXSourceRange range);

    [LibraryImport(Library)]
    public static partial CXSourceLocation clang_getRangeEnd(CXSourceRange range);

    [LibraryImport(Library)]
    public static partial CXString clang_getFileName(nint file);
}
