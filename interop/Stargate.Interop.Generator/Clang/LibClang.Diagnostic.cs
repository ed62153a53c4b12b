namespace Stargate.Interop.Generator.Clang;

/// <summary>Diagnostics of a translation unit.</summary>
internal static unsafe partial class LibClang
{
    [LibraryImport(Library)]
    public static partial uint clang_getNumDiagnostics(CXTranslationUnit unit);

    [LibraryImport(Library)]
    public static partial CXDiagnostic clang_getDiagnostic(CXTranslationUnit unit, uint index);

    [LibraryImport(Library)]
    public static partial void clang_disposeDiagnostic(CXDiagnostic diagnostic);

    [LibraryImport(Library)]
    public static partial CXDiagnosticSeverity clang_getDiagnosticSeverity(CXDiagnostic diagnostic);

    [LibraryImport(Library)]
    public static partial CXSourceLocation clang_getDiagnosticLocation(CXDiagnostic diagnostic);

    /// <summary>The message alone, without location or severity.</summary>
    [LibraryImport(Library)]
    public static partial CXString clang_getDiagnosticSpelling(CXDiagnostic diagnostic);
}
