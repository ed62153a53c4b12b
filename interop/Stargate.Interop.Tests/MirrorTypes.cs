using System.CodeDom.Compiler;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Stargate.Interop.Abi;
using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

/// <summary>
/// What the compiled C# mirror says, read by reflection: every generated struct with its
/// fields, and every SgzAbi constant, in declaration order.
/// </summary>
internal static class MirrorTypes
{
    public static IReadOnlyList<MirrorStruct> Structs { get; } =
    [
        .. typeof(SgzAbi).Assembly.GetTypes()
            .Where(t => t.IsValueType && t.GetCustomAttribute<GeneratedCodeAttribute>()?.Tool == ZoneMirrorGenerator.ToolName)
            .OrderBy(t => t.MetadataToken)
            .Select(t => new MirrorStruct(t, SizeOf(t), [.. Fields(t)])),
    ];

    public static IReadOnlyList<MirrorConstant> Constants { get; } =
    [
        .. typeof(SgzAbi).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .OrderBy(f => f.MetadataToken)
            .Select(f => new MirrorConstant(f.Name, f.FieldType, f.GetRawConstantValue()!)),
    ];

    /// <summary>The managed size, what MemoryMarshal and Unsafe use on zone memory.</summary>
    public static int SizeOf(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;

    private static IEnumerable<MirrorField> Fields(Type type)
    {
        foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Instance).OrderBy(f => f.MetadataToken))
        {
            int offset = field.GetCustomAttribute<FieldOffsetAttribute>()!.Value;
            FixedBufferAttribute? buffer = field.GetCustomAttribute<FixedBufferAttribute>();
            yield return buffer is null
                ? new MirrorField(field.Name, offset, field.FieldType, null, SizeOf(field.FieldType))
                : new MirrorField(field.Name, offset, buffer.ElementType, buffer.Length, buffer.Length * SizeOf(buffer.ElementType));
        }
    }
}
