using Stargate.Interop.Generator.Clang;
using Stargate.Interop.Generator.Model;

namespace Stargate.Interop.Generator.Reading;

/// <summary>
/// A struct definition to its C# layout: size and every field's byte offset as libclang
/// computed them, field types checked against the zone ABI rules (shared/DESIGN.md).
/// </summary>
internal static class StructReader
{
    private const string Allowed =
        "the zone ABI allows only fixed-width integers (__u8..__u64, __s8..__s64), " +
        "constant arrays of them and structs defined before in this header";

    /// <summary>
    /// Null, with the reasons in <paramref name="diagnostics"/>, when the struct breaks a rule.
    /// <paramref name="structNames"/> maps the C names of the header's structs read so far to
    /// their C# names.
    /// </summary>
    public static AbiStruct? Read(
        CXCursor definition, IReadOnlyDictionary<string, string> structNames, DiagnosticBag diagnostics)
    {
        string cName = definition.Spelling;
        if (!Naming.IsReversible(cName))
        {
            diagnostics.Error(definition.Position,
                $"struct '{cName}' must be named in lower snake case (parts starting with a letter), " +
                "so that its C# name maps back to it");
            return null;
        }

        var fields = new List<AbiField>();
        bool valid = true;
        foreach (CXCursor child in definition.Children())
        {
            switch (child.Kind)
            {
                case CXCursorKind.FieldDecl:
                    AbiField? field = ReadField(cName, child, structNames, diagnostics);
                    valid &= field is not null;
                    if (field is not null)
                    {
                        fields.Add(field);
                    }

                    break;
                case CXCursorKind.StructDecl or CXCursorKind.UnionDecl or CXCursorKind.EnumDecl:
                    diagnostics.Error(child.Position,
                        $"struct {cName} declares a nested type; define structs at file scope ({Allowed})");
                    valid = false;
                    break;
            }
        }

        long size = definition.Type.SizeOf;
        if (size < 0)
        {
            diagnostics.Error(definition.Position, $"libclang cannot compute the size of struct {cName}");
            return null;
        }

        return valid
            ? new AbiStruct(cName, Naming.ToPascalCase(cName), size, fields, Comments.Clean(definition.RawComment))
            : null;
    }

    private static AbiField? ReadField(
        string structName, CXCursor field, IReadOnlyDictionary<string, string> structNames, DiagnosticBag diagnostics)
    {
        string name = field.Spelling;
        CXType declared = field.Type;
        CXType type = declared.Canonical;
        void Fail(string problem) => diagnostics.Error(field.Position,
            $"field '{name}' of struct {structName} {problem} ({declared.Spelling}); {Allowed}");

        if (!Naming.IsReversible(name))
        {
            diagnostics.Error(field.Position,
                $"field '{name}' of struct {structName} must be named in lower snake case " +
                "(parts starting with a letter), so that its C# name maps back to it");
            return null;
        }

        if (field.IsBitField)
        {
            Fail("is a bitfield");
            return null;
        }

        string typeName;
        long? fixedLength = null;
        switch (type.Kind)
        {
            case CXTypeKind.ConstantArray:
                PrimitiveType? element = ClangTypes.ForField(type.ArrayElementType.Canonical.Kind);
                if (element is null)
                {
                    Fail("is an array of something other than a fixed-width integer");
                    return null;
                }

                typeName = element.Keyword;
                fixedLength = type.ArraySize;
                break;

            case CXTypeKind.Record:
                CXCursor declaration = type.Declaration;
                if (declaration.Kind != CXCursorKind.StructDecl)
                {
                    Fail("is a union");
                    return null;
                }

                if (!structNames.TryGetValue(declaration.Spelling, out string? structType))
                {
                    Fail("is a struct not defined in this header");
                    return null;
                }

                typeName = structType;
                break;

            default:
                PrimitiveType? primitive = ClangTypes.ForField(type.Kind);
                if (primitive is null)
                {
                    Fail(type.Kind switch
                    {
                        CXTypeKind.Pointer => "is a pointer",
                        CXTypeKind.Enum => "is an enum",
                        CXTypeKind.Long or CXTypeKind.ULong => "is a long",
                        CXTypeKind.IncompleteArray => "is a flexible array",
                        _ => "has a type the zone ABI does not allow",
                    });
                    return null;
                }

                typeName = primitive.Keyword;
                break;
        }

        long offsetBits = field.FieldOffsetBits;
        if (offsetBits < 0)
        {
            diagnostics.Error(field.Position, $"libclang cannot compute the offset of field '{name}' of struct {structName}");
            return null;
        }

        return new AbiField(name, Naming.ToPascalCase(name), offsetBits / 8, typeName, fixedLength,
            Comments.Clean(field.RawComment));
    }
}
