namespace Stargate.Interop.Generator.Model;

/// <summary>What the header defines, already in C# terms, in the header's declaration order.</summary>
internal sealed record AbiModel(IReadOnlyList<AbiConstant> Constants, IReadOnlyList<AbiStruct> Structs);
