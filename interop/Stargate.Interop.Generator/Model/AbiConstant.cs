namespace Stargate.Interop.Generator.Model;

/// <summary>
/// An integer macro (<c>#define SGZ_PAGE_SIZE 4096</c>) as a C# constant. <see cref="Hex"/>
/// keeps the header's hexadecimal spelling, with <see cref="HexDigits"/> digits.
/// </summary>
internal sealed record AbiConstant(
    string CName,
    string Name,
    PrimitiveType Type,
    Int128 Value,
    bool Hex,
    int HexDigits,
    IReadOnlyList<string> Doc);
