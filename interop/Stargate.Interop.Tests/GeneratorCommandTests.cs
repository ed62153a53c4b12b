using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

public class GeneratorCommandTests
{
    private const string Header = "#define SGZ_ANSWER 42\nstruct sgz_pair {\n\t__le32 first;\n\t__le32 second;\n};\n";

    [Fact]
    public void Check_WhenOutputIsUpToDate_ExitsZero()
    {
        using var header = new TempHeader(Header);
        Assert.Equal(0, Run(header.Path, header.OutputPath).ExitCode);

        (int exitCode, string errors) = Run("--check", header.Path, header.OutputPath);

        Assert.True(exitCode == 0, errors);
    }

    [Fact]
    public void Check_WhenOutputDiffers_ExitsOneWithDiffSummaryAndLeavesTheFile()
    {
        using var header = new TempHeader(Header);
        Assert.Equal(0, Run(header.Path, header.OutputPath).ExitCode);
        string edited = File.ReadAllText(header.OutputPath).Replace("Answer = 42", "Answer = 43", StringComparison.Ordinal);
        File.WriteAllText(header.OutputPath, edited);

        (int exitCode, string errors) = Run("--check", header.Path, header.OutputPath);

        Assert.Equal(1, exitCode);
        Assert.Contains("out of date", errors, StringComparison.Ordinal);
        Assert.Contains("expected:     public const int Answer = 42;", errors, StringComparison.Ordinal);
        Assert.Equal(edited, File.ReadAllText(header.OutputPath));
    }

    [Fact]
    public void Run_WhenHeaderIsMissing_ExitsOneNamingIt()
    {
        using var header = new TempHeader(Header);
        string missing = header.Path + ".missing";

        (int exitCode, string errors) = Run(missing, header.OutputPath);

        Assert.Equal(1, exitCode);
        Assert.Contains($"{missing}: error: header not found", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WhenArgumentsAreWrong_PrintsUsageAndExitsTwo()
    {
        (int exitCode, string errors) = Run("only-one-path.h");

        Assert.Equal(2, exitCode);
        Assert.Contains(GeneratorCommand.Usage, errors, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Errors) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        int exitCode = GeneratorCommand.Run(args, output, errors);
        return (exitCode, errors.ToString());
    }
}
