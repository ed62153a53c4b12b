using System.Text.RegularExpressions;

namespace Stargate.Host.Tests.Cli;

/// <summary>Progress lines are for terminals only; STARGATE_TIMING=1 adds one machine-readable line.</summary>
public class ProgressTests
{
    [Fact]
    public void PutAndGet_Of100MiBWithStderrRedirected_PrintNothingOnStderr()
    {
        using var zone = new TempZone(128UL << 20);
        string local = zone.Scratch("big");
        string back = zone.Scratch("back");
        using (var f = new FileStream(local, FileMode.CreateNew))
        {
            f.SetLength(100L << 20);
        }

        var put = StargateProcess.Run("put", zone.Path, local, "/big");
        var get = StargateProcess.Run("get", zone.Path, "/big", back);

        Assert.True(put.ExitCode == 0 && put.Stderr.Length == 0, $"put: {put}");
        Assert.True(get.ExitCode == 0 && get.Stderr.Length == 0, $"get: {get}");
        Assert.Equal(100L << 20, new FileInfo(back).Length);
    }

    [SkippableFact]
    public void PutAndGet_OnATerminal_ShowProgress()
    {
        Skip.IfNot(File.Exists("/usr/bin/script"), "script(1) (bsdutils) gives the command a terminal; it is missing");
        using var zone = new TempZone(256UL << 20);
        string local = zone.Scratch("big");
        File.WriteAllBytes(local, ZoneContent.Bytes(100 << 20, 61));
        string stargate = $"dotnet {Path.Combine(AppContext.BaseDirectory, "stargate.dll")}";

        // script runs the command on a pseudo-terminal and copies what it printed to stdout.
        var put = StargateProcess.RunProgram("script", "-qec", $"{stargate} put {zone.Path} {local} /big", "/dev/null");
        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Matches(new Regex(@"put /big: 100 MiB of 100 MiB \(100%\), [0-9.]+ [KMG]?i?B/s"), put.Stdout);

        string back = zone.Scratch("back");
        var get = StargateProcess.RunProgram("script", "-qec", $"{stargate} get {zone.Path} /big {back}", "/dev/null");
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains("get /big: 100 MiB of 100 MiB (100%)", get.Stdout);
        Assert.Equal(File.ReadAllBytes(local), File.ReadAllBytes(back));
    }

    [Fact]
    public void Put_WithStargateTiming_PrintsOneTimingLine()
    {
        using var zone = new TempZone(16UL << 20);
        string local = zone.Scratch("f");
        File.WriteAllBytes(local, ZoneContent.Bytes(123_456, 60));

        var r = StargateProcess.Run(new Dictionary<string, string> { ["STARGATE_TIMING"] = "1" }, "put", zone.Path, local, "/f");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(new Regex(@"\Atiming: put 123456 bytes in \d+\.\d{3} s\n\z"), r.Stderr);
    }
}
