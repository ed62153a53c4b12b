using System.Text.RegularExpressions;
using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

public class GeneratorDiagnosticsTests
{
    [Fact]
    public void Generate_WhenHeaderHasPointerField_FailsNamingTheField()
    {
        using var header = new TempHeader("""
            struct sgz_bad {
            	__u64 *next;
            };
            """);

        GenerationResult result = ZoneMirrorGenerator.Generate(header.Path, header.OutputPath);

        AssertFailsWith(result, header.Path, line: 3, "error: field 'next' of struct sgz_bad is a pointer");
    }

    [Fact]
    public void Generate_WhenHeaderHasEnumField_FailsNamingTheField()
    {
        using var header = new TempHeader("""
            enum sgz_kind { SGZ_KIND_ONE = 1 };
            struct sgz_bad {
            	__le32 flags;
            	enum sgz_kind kind;
            };
            """);

        GenerationResult result = ZoneMirrorGenerator.Generate(header.Path, header.OutputPath);

        AssertFailsWith(result, header.Path, line: 5, "error: field 'kind' of struct sgz_bad is an enum");
    }

    [Fact]
    public void Generate_WhenHeaderHasSyntaxError_ReportsClangsDiagnosticWithItsPosition()
    {
        using var header = new TempHeader("""
            struct sgz_bad {
            	__u64 value;
            }
            """);

        GenerationResult result = ZoneMirrorGenerator.Generate(header.Path, header.OutputPath);

        AssertFailsWith(result, header.Path, line: 4, "error: expected ';' after struct");
    }

    [Fact]
    public void Generate_WhenMacroIsNotAConstant_FailsNamingTheMacroAtItsDefinition()
    {
        using var header = new TempHeader("""
            #define SGZ_GOOD 1
            #define SGZ_BAD (SGZ_UNDEFINED + 1)
            """);

        GenerationResult result = ZoneMirrorGenerator.Generate(header.Path, header.OutputPath);

        AssertFailsWith(result, header.Path, line: 3, "error: macro SGZ_BAD is not an integer constant");
    }

    private static void AssertFailsWith(GenerationResult result, string file, int line, string message)
    {
        Assert.False(result.Succeeded);
        Assert.Null(result.Text);
        var expected = new Regex($@"^{Regex.Escape(file)}\({line},\d+\): {Regex.Escape(message)}");
        Assert.True(result.Diagnostics.Any(d => expected.IsMatch(d.ToString())),
            $"no diagnostic matches {expected}; got:\n{string.Join('\n', result.Diagnostics)}");
    }
}
