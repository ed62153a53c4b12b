using System.Text;
using System.Text.RegularExpressions;

namespace Stargate.Interop.Generator;

/// <summary>
/// C names to C# names and back. The mapping must be reversible, because the layout test
/// turns the C# mirror back into C (<c>offsetof(struct sgz_inode, pt_root)</c>); so every C
/// name is lower snake case whose parts start with a letter (<c>pt_root</c>, <c>reserved0</c>),
/// macros the same in upper case after <see cref="MacroPrefix"/>.
/// </summary>
public static partial class Naming
{
    public const string MacroPrefix = "SGZ_";

    public static bool IsReversible(string snakeCase) => SnakeCase().IsMatch(snakeCase);

    /// <summary><c>pt_root</c> → <c>PtRoot</c>, <c>sgz_inode</c> → <c>SgzInode</c>.</summary>
    public static string ToPascalCase(string snakeCase)
    {
        var name = new StringBuilder(snakeCase.Length);
        foreach (string part in snakeCase.Split('_'))
        {
            name.Append(char.ToUpperInvariant(part[0])).Append(part.AsSpan(1));
        }

        return name.ToString();
    }

    /// <summary><c>PtRoot</c> → <c>pt_root</c>; the inverse of <see cref="ToPascalCase"/>.</summary>
    public static string ToSnakeCase(string pascalCase)
    {
        var name = new StringBuilder(pascalCase.Length + 8);
        for (int i = 0; i < pascalCase.Length; i++)
        {
            char c = pascalCase[i];
            if (char.IsAsciiLetterUpper(c) && i > 0)
            {
                name.Append('_');
            }

            name.Append(char.ToLowerInvariant(c));
        }

        return name.ToString();
    }

    /// <summary>Whether <paramref name="macro"/> (with its prefix) maps to a constant name and back.</summary>
    public static bool IsReversibleMacro(string macro)
    {
        string rest = macro[MacroPrefix.Length..];
        return !rest.Any(char.IsAsciiLetterLower) && IsReversible(rest.ToLowerInvariant());
    }

    /// <summary><c>SGZ_PAGE_SIZE</c> → <c>PageSize</c>, <c>SGZ_S_IFREG</c> → <c>SIfreg</c>.</summary>
    public static string ToConstantName(string macro) =>
        ToPascalCase(macro[MacroPrefix.Length..].ToLowerInvariant());

    /// <summary><c>PageSize</c> → <c>SGZ_PAGE_SIZE</c>; the inverse of <see cref="ToConstantName"/>.</summary>
    public static string ToMacroName(string constant) =>
        MacroPrefix + ToSnakeCase(constant).ToUpperInvariant();

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*$")]
    private static partial Regex SnakeCase();
}
