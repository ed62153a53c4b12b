using System.Globalization;
using System.Text;
using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

/// <summary>
/// The C# mirror written back as C: a file of _Static_asserts on sizeof, offsetof, field types
/// and macro values and types, which gcc compiles against the header. The C names come back
/// from the C# names through Naming.ToSnakeCase / ToMacroName.
/// </summary>
internal static class CLayout
{
    /// <summary>The C type of each C# integer type; the first is what the zone ABI uses.</summary>
    private static readonly Dictionary<Type, string[]> CTypes = new()
    {
        [typeof(byte)] = ["unsigned char"],
        [typeof(sbyte)] = ["signed char"],
        [typeof(ushort)] = ["unsigned short"],
        [typeof(short)] = ["short"],
        [typeof(uint)] = ["unsigned int"],
        [typeof(int)] = ["int"],
        // Macros may also be long; fields may not (the generator refuses them).
        [typeof(ulong)] = ["unsigned long long", "unsigned long"],
        [typeof(long)] = ["long long", "long"],
    };

    public static IReadOnlyList<StaticAssertion> Assertions()
    {
        var assertions = new List<StaticAssertion>();
        foreach (MirrorStruct layout in MirrorTypes.Structs)
        {
            string type = $"struct {layout.CName}";
            string name = layout.Type.Name;
            assertions.Add(new($"sizeof({type}) == {layout.Size}", $"sizeof {name}"));
            foreach (MirrorField field in layout.Fields)
            {
                string member = $"(({type} *)0)->{field.CName}";
                string element = field.FixedLength is null ? member : member + "[0]";
                string key = $"{name}.{field.Name}";
                string[] fieldTypes = field.Type.IsPrimitive
                    ? CTypes[field.Type][..1]
                    : [$"struct {Naming.ToSnakeCase(field.Type.Name)}"];
                assertions.Add(new($"offsetof({type}, {field.CName}) == {field.Offset}", $"{key} offset"));
                assertions.Add(new($"sizeof({member}) == {field.Size}", $"{key} size"));
                assertions.Add(new(Generic(element, fieldTypes), $"{key} type"));
            }
        }

        foreach (MirrorConstant constant in MirrorTypes.Constants)
        {
            string key = $"SgzAbi.{constant.Name}";
            assertions.Add(new($"{constant.MacroName} == {Literal(constant)}", $"{key} value"));
            assertions.Add(new(Generic(constant.MacroName, CTypes[constant.Type]), $"{key} type"));
        }

        return assertions;
    }

    public static string Source(IEnumerable<StaticAssertion> assertions)
    {
        var source = new StringBuilder()
            .Append("/* The C# mirror's layout and values, written by Stargate.Interop.Tests. */\n")
            .Append("#include <stddef.h>\n")
            .Append("#include \"stargate_zone.h\"\n\n");
        foreach (StaticAssertion assertion in assertions)
        {
            source.Append(CultureInfo.InvariantCulture, $"_Static_assert({assertion.Condition}, \"{assertion.Message}\");\n");
        }

        return source.ToString();
    }

    private static string Generic(string expression, IEnumerable<string> types) =>
        $"_Generic({expression}, {string.Concat(types.Select(t => t + ": 1, "))}default: 0)";

    private static string Literal(MirrorConstant constant) =>
        constant.Number.ToString(CultureInfo.InvariantCulture) + constant.Value switch
        {
            ulong => "ULL",
            long => "LL",
            uint => "U",
            _ => string.Empty,
        };
}
