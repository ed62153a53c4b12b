namespace Stargate.Interop.Generator.Clang;

/// <summary>The kind of a constant evaluation's result (values from clang-c/Index.h).</summary>
internal enum CXEvalResultKind
{
    Unexposed = 0,
    Int = 1,
    Float = 2,
    ObjCStrLiteral = 3,
    StrLiteral = 4,
    CFStr = 5,
    Other = 6,
}
