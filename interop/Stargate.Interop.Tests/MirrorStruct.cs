using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

/// <summary>A mirror struct: its C# type, managed size and fields.</summary>
internal sealed record MirrorStruct(Type Type, int Size, IReadOnlyList<MirrorField> Fields)
{
    public string CName => Naming.ToSnakeCase(Type.Name);
}
