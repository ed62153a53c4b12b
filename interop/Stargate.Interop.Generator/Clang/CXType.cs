namespace Stargate.Interop.Generator.Clang;

/// <summary>A type, passed by value (clang-c CXType: kind, data[2]).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXType
{
    public readonly CXTypeKind Kind;
    public readonly nint Data0;
    public readonly nint Data1;

    /// <summary>The type with typedefs (__le64, __u8, ...) and qualifiers resolved.</summary>
    public CXType Canonical => LibClang.clang_getCanonicalType(this);

    public string Spelling => LibClang.Take(LibClang.clang_getTypeSpelling(this));

    /// <summary>Size in bytes; negative when the type has none (incomplete, dependent).</summary>
    public long SizeOf => LibClang.clang_Type_getSizeOf(this);

    public CXType ArrayElementType => LibClang.clang_getArrayElementType(this);

    public long ArraySize => LibClang.clang_getArraySize(this);

    public CXCursor Declaration => LibClang.clang_getTypeDeclaration(this);
}
