namespace Stargate.Interop.Generator.Clang;

/// <summary>The cursor kinds the generator distinguishes (values from clang-c/Index.h).</summary>
internal enum CXCursorKind
{
    StructDecl = 2,
    UnionDecl = 3,
    EnumDecl = 5,
    FieldDecl = 6,
    VarDecl = 9,
    MacroDefinition = 501,
}
