namespace Stargate.Interop.Generator.Clang;

/// <summary>Options of clang_parseTranslationUnit.</summary>
[Flags]
internal enum CXTranslationUnitFlags : uint
{
    None = 0,

    /// <summary>Keep macro definitions in the AST, so that cursors visit them.</summary>
    DetailedPreprocessingRecord = 0x01,
}
