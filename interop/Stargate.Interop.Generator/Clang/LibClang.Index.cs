namespace Stargate.Interop.Generator.Clang;

/// <summary>Indexes and translation units.</summary>
internal static unsafe partial class LibClang
{
    [LibraryImport(Library)]
    public static partial CXIndex clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);

    [LibraryImport(Library)]
    public static partial void clang_disposeIndex(CXIndex index);

    [LibraryImport(Library)]
    public static partial CXTranslationUnit clang_parseTranslationUnit(
        CXIndex index,
        byte* sourceFilename,
        byte** commandLineArgs,
        int numCommandLineArgs,
        CXUnsavedFile* unsavedFiles,
        uint numUnsavedFiles,
        CXTranslationUnitFlags options);

    [LibraryImport(Library)]
    public static partial void clang_disposeTranslationUnit(CXTranslationUnit unit);

    [LibraryImport(Library)]
    public static partial CXCursor clang_getTranslationUnitCursor(CXTranslationUnit unit);
}
