using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

/// <summary>
/// A field at a byte offset: <see cref="Type"/> is the field's type, or a fixed buffer's element
/// type when <see cref="FixedLength"/> is set; <see cref="Size"/> is the whole field's.
/// </summary>
internal sealed record MirrorField(string Name, int Offset, Type Type, int? FixedLength, int Size)
{
    public string CName => Naming.ToSnakeCase(Name);
}
