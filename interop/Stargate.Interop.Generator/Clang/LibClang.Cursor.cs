namespace Stargate.Interop.Generator.Clang;

/// <summary>Cursors: walking the AST and asking about one node.</summary>
internal static unsafe partial class LibClang
{
    [LibraryImport(Library)]
    public static partial uint clang_visitChildren(
        CXCursor parent,
        delegate* unmanaged<CXCursor, CXCursor, nint, CXChildVisitResult> visitor,
        nint clientData);

    [LibraryImport(Library)]
    public static partial CXCursorKind clang_getCursorKind(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial CXString clang_getCursorSpelling(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial CXType clang_getCursorType(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial uint clang_isCursorDefinition(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial uint clang_Cursor_isBitField(CXCursor cursor);

    /// <summary>The field's offset in bits from the start of its record; negative on error.</summary>
    [LibraryImport(Library)]
    public static partial long clang_Cursor_getOffsetOfField(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor cursor);

    /// <summary>
    /// The comment attached to a declaration (all comments with -fparse-all-comments,
    /// else only doc comments). Macro definitions are not declarations and get none.
    /// </summary>
    [LibraryImport(Library)]
    public static partial CXString clang_Cursor_getRawCommentText(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial CXSourceRange clang_getCursorExtent(CXCursor cursor);
}
