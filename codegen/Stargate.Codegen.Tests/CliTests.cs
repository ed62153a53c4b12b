using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>The command line: a user's mistake gets one clear line and a non-zero exit.</summary>
public sealed class CliTests
{
    [Fact]
    public void Build_WhenTheHeadersDirectoryDoesNotExist_PrintsOneLineAndExits1()
    {
        var result = CodegenCommand.Run("build", "--headers", "/no/such/headers");

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(CodegenCommand.ErrorLines(result));
        Assert.StartsWith("stargate-codegen: --headers /no/such/headers: no such directory; install the guest kernel's headers", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_WhenTheDirectoryIsNotKernelHeaders_PrintsOneLineAndExits1()
    {
        using var scratch = new ScratchDirectory();

        var result = CodegenCommand.Run("probe", "--headers", scratch.Path);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(CodegenCommand.ErrorLines(result));
        Assert.Equal($"stargate-codegen: --headers {scratch.Path}: not a kernel headers directory (no Makefile); pass /usr/src/linux-headers-RELEASE, the one Kbuild's -C takes", line);
    }

    [Fact]
    public void Render_WhenTheProfileDoesNotExist_PrintsOneLineAndExits1()
    {
        using var scratch = new ScratchDirectory();

        var result = CodegenCommand.Run("render", "--profile", scratch.Combine("profile.json"), "--out", scratch.Combine("out"));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(CodegenCommand.ErrorLines(result));
        Assert.StartsWith($"stargate-codegen: --profile {scratch.Combine("profile.json")}: no such file", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WhenTheProfileIsNotJson_PrintsOneLineAndExits1()
    {
        using var scratch = new ScratchDirectory();
        string profile = scratch.Write("profile.json", "{ \"release\": ");

        var result = CodegenCommand.Run("render", "--profile", profile, "--out", scratch.Combine("out"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"stargate-codegen: {profile}: not a kernel profile", Assert.Single(CodegenCommand.ErrorLines(result)), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithoutHeaders_IsAUsageErrorExit2()
    {
        var result = CodegenCommand.Run("build");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(CodegenCommand.ErrorLines(result));
        Assert.Contains("--headers", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_FromARecordedProfile_WritesTheTreeAndExits0()
    {
        var release = Directory.GetDirectories(Repo.Golden).Where(d => d != Repo.GoldenTree).Order(StringComparer.Ordinal).First();
        using var scratch = new ScratchDirectory();

        var result = CodegenCommand.Run("render", "--profile", Path.Combine(release, "profile.json"), "--out", scratch.Combine("out"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(scratch.Combine("out", "Kbuild")));
        Assert.True(File.Exists(scratch.Combine("out", "include", "stargate_zone.h")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(release, "stargatefs_config.h")), File.ReadAllBytes(scratch.Combine("out", "stargatefs_config.h")));
    }
}
