using System.Globalization;
using System.Text;
using Stargate.Interop.Generator.Clang;
using Stargate.Interop.Generator.Model;

namespace Stargate.Interop.Generator.Reading;

/// <summary>
/// Values and C types of macros, as the C compiler sees them. A second, in-memory translation
/// unit includes the header and declares, on line i + 2 for macro i,
/// <c>static const __typeof__(SGZ_X) sgz_const_SGZ_X = SGZ_X;</c>; libclang evaluates each
/// initializer, and the variable's type is the macro's C type.
/// </summary>
internal static class MacroEvaluator
{
    private const string VariablePrefix = "sgz_const_";
    private const int FirstMacroLine = 2;

    public static IReadOnlyList<AbiConstant> Evaluate(
        string headerPath, IReadOnlyList<MacroDefinition> macros, IReadOnlyList<string> arguments, DiagnosticBag diagnostics)
    {
        if (macros.Count == 0)
        {
            return [];
        }

        string fullHeader = Path.GetFullPath(headerPath);
        var source = new StringBuilder();
        source.Append(CultureInfo.InvariantCulture, $"#include \"{fullHeader}\"\n");
        foreach (MacroDefinition macro in macros)
        {
            source.Append(CultureInfo.InvariantCulture,
                $"static const __typeof__({macro.Name}) {VariablePrefix}{macro.Name} = {macro.Name};\n");
        }

        string unitPath = fullHeader + ".constants.c";
        using ClangUnit unit = ClangUnit.Parse(unitPath, arguments, source.ToString());
        bool valid = true;
        foreach (Diagnostic diagnostic in unit.Diagnostics())
        {
            int index = diagnostic.Line - FirstMacroLine;
            if (diagnostic.File == unitPath && index >= 0 && index < macros.Count)
            {
                // The in-memory file means nothing to a reader: blame the macro's definition.
                MacroDefinition macro = macros[index];
                diagnostics.Add(diagnostic with
                {
                    File = macro.Position.File,
                    Line = macro.Position.Line,
                    Column = macro.Position.Column,
                    Message = $"macro {macro.Name} is not an integer constant: {diagnostic.Message}",
                });
            }
            else
            {
                diagnostics.Add(diagnostic);
            }

            valid &= !diagnostic.IsFailure;
        }

        if (!valid)
        {
            return [];
        }

        var byName = macros.ToDictionary(m => VariablePrefix + m.Name);
        var constants = new List<AbiConstant>(macros.Count);
        foreach (CXCursor variable in unit.Root.Children())
        {
            if (variable.Kind == CXCursorKind.VarDecl && variable.IsFromMainFile &&
                byName.TryGetValue(variable.Spelling, out MacroDefinition? macro) &&
                Read(macro, variable, diagnostics) is { } constant)
            {
                constants.Add(constant);
            }
        }

        return constants;
    }

    private static AbiConstant? Read(MacroDefinition macro, CXCursor variable, DiagnosticBag diagnostics)
    {
        CXType type = variable.Type.Canonical;
        PrimitiveType? primitive = ClangTypes.ForConstant(type.Kind);
        if (primitive is null)
        {
            diagnostics.Error(macro.Position,
                $"macro {macro.Name} has type {type.Spelling}; only integer macros are mirrored");
            return null;
        }

        CXEvalResult result = LibClang.clang_Cursor_Evaluate(variable);
        if (result.IsNull)
        {
            diagnostics.Error(macro.Position, $"macro {macro.Name} is not a constant libclang can evaluate");
            return null;
        }

        try
        {
            if (LibClang.clang_EvalResult_getKind(result) != CXEvalResultKind.Int)
            {
                diagnostics.Error(macro.Position, $"macro {macro.Name} does not evaluate to an integer");
                return null;
            }

            Int128 value = LibClang.clang_EvalResult_isUnsignedInt(result) != 0
                ? LibClang.clang_EvalResult_getAsUnsigned(result)
                : LibClang.clang_EvalResult_getAsLongLong(result);
            (bool hex, int digits) = HexSpelling(macro.Body);
            return new AbiConstant(macro.Name, Naming.ToConstantName(macro.Name), primitive, value,
                hex && value >= 0, digits, macro.Doc);
        }
        finally
        {
            LibClang.clang_EvalResult_dispose(result);
        }
    }

    /// <summary>Whether the body is a hexadecimal literal, and its digit count (0x000ff000ULL: 8).</summary>
    private static (bool Hex, int Digits) HexSpelling(string body)
    {
        if (!body.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return (false, 0);
        }

        int digits = 0;
        while (2 + digits < body.Length && char.IsAsciiHexDigit(body[2 + digits]))
        {
            digits++;
        }

        return (true, digits);
    }
}
