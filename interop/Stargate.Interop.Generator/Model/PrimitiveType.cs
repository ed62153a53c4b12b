namespace Stargate.Interop.Generator.Model;

/// <summary>A C# integer type a C integer type maps to.</summary>
internal sealed record PrimitiveType(string Keyword, bool Signed)
{
    public static readonly PrimitiveType Byte = new("byte", Signed: false);
    public static readonly PrimitiveType UShort = new("ushort", Signed: false);
    public static readonly PrimitiveType UInt = new("uint", Signed: false);
    public static readonly PrimitiveType ULong = new("ulong", Signed: false);
    public static readonly PrimitiveType SByte = new("sbyte", Signed: true);
    public static readonly PrimitiveType Short = new("short", Signed: true);
    public static readonly PrimitiveType Int = new("int", Signed: true);
    public static readonly PrimitiveType Long = new("long", Signed: true);
}
