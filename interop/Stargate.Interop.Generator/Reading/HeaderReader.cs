using Stargate.Interop.Generator.Clang;
using Stargate.Interop.Generator.Model;

namespace Stargate.Interop.Generator.Reading;

/// <summary>Parses the zone header with libclang into an <see cref="AbiModel"/>.</summary>
internal static class HeaderReader
{
    // -x c: a .h given as the main file is parsed as C, not as a header to precompile.
    // -fparse-all-comments: attach plain /* */ comments to declarations, not only doc comments.
    private static readonly string[] Arguments = ["-x", "c", "-std=c11", "-fparse-all-comments"];

    /// <summary>
    /// The header's structs and integer macros, or null with the reasons in
    /// <paramref name="diagnostics"/>. Only what is spelled in the header itself is read, not
    /// what it includes.
    /// </summary>
    public static AbiModel? Read(string headerPath, DiagnosticBag diagnostics)
    {
        using ClangUnit unit = ClangUnit.Parse(headerPath, Arguments);
        foreach (Diagnostic diagnostic in unit.Diagnostics())
        {
            diagnostics.Add(diagnostic);
        }

        if (diagnostics.HasFailures)
        {
            return null;
        }

        HeaderText header = HeaderText.Read(headerPath);
        var macros = new List<MacroDefinition>();
        var structs = new List<AbiStruct>();
        var structNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (CXCursor cursor in unit.Root.Children())
        {
            switch (cursor.Kind)
            {
                case CXCursorKind.MacroDefinition:
                    if (MacroReader.Read(cursor, header, diagnostics) is { } macro)
                    {
                        macros.Add(macro);
                    }

                    break;

                case CXCursorKind.StructDecl when cursor.IsFromMainFile && cursor.IsDefinition:
                    if (StructReader.Read(cursor, structNames, diagnostics) is { } layout)
                    {
                        structs.Add(layout);
                    }

                    // Known even when invalid, so that its users are not reported too.
                    if (Naming.IsReversible(cursor.Spelling))
                    {
                        structNames[cursor.Spelling] = Naming.ToPascalCase(cursor.Spelling);
                    }

                    break;

                case CXCursorKind.UnionDecl or CXCursorKind.EnumDecl when cursor.IsFromMainFile:
                    diagnostics.Error(cursor.Position,
                        $"the zone ABI has no {(cursor.Kind == CXCursorKind.EnumDecl ? "enums" : "unions")}: " +
                        "use integer fields and SGZ_* macros");
                    break;
            }
        }

        IReadOnlyList<AbiConstant> constants = MacroEvaluator.Evaluate(headerPath, macros, Arguments, diagnostics);
        return diagnostics.HasFailures ? null : new AbiModel(constants, structs);
    }
}
