using Stargate.Interop.Generator.Clang;
using Stargate.Interop.Generator.Model;

namespace Stargate.Interop.Generator.Reading;

/// <summary>Canonical C integer types to C# types.</summary>
internal static class ClangTypes
{
    /// <summary>
    /// A field's type: only what __u8..__u64 and __s8..__s64 resolve to. long and plain char
    /// are refused: their width or signedness depends on the platform.
    /// </summary>
    public static PrimitiveType? ForField(CXTypeKind kind) => kind switch
    {
        CXTypeKind.UChar => PrimitiveType.Byte,
        CXTypeKind.UShort => PrimitiveType.UShort,
        CXTypeKind.UInt => PrimitiveType.UInt,
        CXTypeKind.ULongLong => PrimitiveType.ULong,
        CXTypeKind.SChar => PrimitiveType.SByte,
        CXTypeKind.Short => PrimitiveType.Short,
        CXTypeKind.Int => PrimitiveType.Int,
        CXTypeKind.LongLong => PrimitiveType.Long,
        _ => null,
    };

    /// <summary>A macro's type: as a field's, and long too (a macro is never stored in the zone).</summary>
    public static PrimitiveType? ForConstant(CXTypeKind kind) => kind switch
    {
        CXTypeKind.Long => PrimitiveType.Long,
        CXTypeKind.ULong => PrimitiveType.ULong,
        _ => ForField(kind),
    };
}
