using Stargate.Interop.Generator.Clang;

namespace Stargate.Interop.Generator.Reading;

/// <summary>Finds the header's own SGZ_* macros among the cursors of its translation unit.</summary>
internal static class MacroReader
{
    /// <summary>
    /// The macro defined by <paramref name="cursor"/>, or null when it is not one to mirror:
    /// defined in an include, not prefixed SGZ_, function-like (a helper, not a value), or
    /// empty (an include guard).
    /// </summary>
    public static MacroDefinition? Read(CXCursor cursor, HeaderText header, DiagnosticBag diagnostics)
    {
        string name = cursor.Spelling;
        if (!cursor.IsFromMainFile || !name.StartsWith(Naming.MacroPrefix, StringComparison.Ordinal) ||
            cursor.IsMacroFunctionLike)
        {
            return null;
        }

        // The extent runs from the macro's name to the end of its last token.
        (SourcePosition start, SourcePosition end) = cursor.Extent;
        string body = header.Slice(start.Offset, end.Offset)[name.Length..].Trim();
        if (body.Length == 0)
        {
            return null;
        }

        if (!Naming.IsReversibleMacro(name))
        {
            diagnostics.Error(start,
                $"macro {name} must be named in upper snake case after {Naming.MacroPrefix} " +
                "(parts starting with a letter), so that its C# name maps back to it");
            return null;
        }

        return new MacroDefinition(name, start, body, Comments.Above(header, start.Line));
    }
}
