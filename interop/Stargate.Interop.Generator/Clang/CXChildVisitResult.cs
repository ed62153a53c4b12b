namespace Stargate.Interop.Generator.Clang;

/// <summary>What clang_visitChildren does after a visitor returns.</summary>
internal enum CXChildVisitResult
{
    Break = 0,
    Continue = 1,
    Recurse = 2,
}
