namespace Stargate.Host.Tests.Cli;

/// <summary>What every run of the `stargate` command must look like to a user.</summary>
internal static class CliAssert
{
    /// <summary>Exit 0 and nothing on stderr.</summary>
    public static StargateProcess.Result Succeeds(StargateProcess.Result r)
    {
        Assert.True(r.ExitCode == 0 && r.Stderr.Length == 0, $"expected success\n{r}");
        return r;
    }

    /// <summary>
    /// The failure contract: exit <paramref name="exitCode"/>, nothing on stdout,
    /// exactly one line on stderr that starts with "stargate: ", holds every one
    /// of <paramref name="mentions"/> and no stack trace or exception name.
    /// </summary>
    public static string FailsWithOneLine(StargateProcess.Result r, int exitCode, params string[] mentions) =>
        FailsWithOneLine(r, [exitCode], mentions);

    public static string FailsWithOneLine(StargateProcess.Result r, int[] exitCodes, params string[] mentions)
    {
        Assert.True(exitCodes.Contains(r.ExitCode), $"expected exit {string.Join(" or ", exitCodes)}\n{r}");
        Assert.True(r.Stdout.Length == 0, $"expected nothing on stdout\n{r}");
        Assert.True(r.Stderr.EndsWith('\n') && r.Stderr.IndexOf('\n') == r.Stderr.Length - 1, $"expected exactly one line on stderr\n{r}");
        Assert.True(r.Stderr.StartsWith("stargate: ", StringComparison.Ordinal), $"expected the line to start with 'stargate: '\n{r}");
        Assert.True(!r.Stderr.Contains("   at ", StringComparison.Ordinal) && !r.Stderr.Contains("Exception", StringComparison.Ordinal), $"expected no stack trace or exception name\n{r}");
        foreach (string mention in mentions)
        {
            Assert.True(r.Stderr.Contains(mention, StringComparison.Ordinal), $"expected the line to mention '{mention}'\n{r}");
        }

        return r.Stderr.TrimEnd('\n');
    }

    /// <summary>stdout as lines, without the final newline.</summary>
    public static string[] Lines(StargateProcess.Result r) =>
        r.Stdout.Length == 0 ? [] : r.Stdout.TrimEnd('\n').Split('\n');
}
