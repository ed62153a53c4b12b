namespace Stargate.Interop.Generator.Model;

/// <summary>
/// A struct field at a byte offset: a primitive (<see cref="TypeName"/> is its C# keyword),
/// a fixed buffer of a primitive (<see cref="FixedLength"/> is its element count), or a
/// struct of the header (<see cref="TypeName"/> is its generated name).
/// </summary>
internal sealed record AbiField(
    string CName,
    string Name,
    long Offset,
    string TypeName,
    long? FixedLength,
    IReadOnlyList<string> Doc);
