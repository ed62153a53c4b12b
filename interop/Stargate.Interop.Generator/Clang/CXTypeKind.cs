namespace Stargate.Interop.Generator.Clang;

/// <summary>The type kinds the generator distinguishes (values from clang-c/Index.h).</summary>
internal enum CXTypeKind
{
    UChar = 5,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    SChar = 14,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Pointer = 101,
    Record = 105,
    Enum = 106,
    ConstantArray = 112,
    IncompleteArray = 114,
}
