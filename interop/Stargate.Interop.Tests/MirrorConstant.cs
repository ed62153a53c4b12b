using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

/// <summary>An SgzAbi constant and its value, boxed as its C# type.</summary>
internal sealed record MirrorConstant(string Name, Type Type, object Value)
{
    public string MacroName => Naming.ToMacroName(Name);

    public Int128 Number => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => v,
        long v => v,
        _ => throw new InvalidOperationException($"SgzAbi.{Name} is a {Type}, not an integer"),
    };
}
