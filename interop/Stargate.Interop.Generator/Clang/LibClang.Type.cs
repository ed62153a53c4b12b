namespace Stargate.Interop.Generator.Clang;

/// <summary>Types: their kind, layout and declaration.</summary>
internal static unsafe partial class LibClang
{
    [LibraryImport(Library)]
    public static partial CXType clang_getCanonicalType(CXType type);

    [LibraryImport(Library)]
    public static partial CXString clang_getTypeSpelling(CXType type);

    /// <summary>Size in bytes, or a negative CXTypeLayoutError.</summary>
    [LibraryImport(Library)]
    public static partial long clang_Type_getSizeOf(CXType type);

    [LibraryImport(Library)]
    public static partial CXType clang_getArrayElementType(CXType type);

    /// <summary>Element count of a constant array, or -1.</summary>
    [LibraryImport(Library)]
    public static partial long clang_getArraySize(CXType type);

    [LibraryImport(Library)]
    public static partial CXCursor clang_getTypeDeclaration(CXType type);
}
