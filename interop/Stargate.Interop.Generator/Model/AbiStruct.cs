namespace Stargate.Interop.Generator.Model;

/// <summary>A struct of the header with its size and fields as libclang laid them out.</summary>
internal sealed record AbiStruct(
    string CName,
    string Name,
    long Size,
    IReadOnlyList<AbiField> Fields,
    IReadOnlyList<string> Doc);
