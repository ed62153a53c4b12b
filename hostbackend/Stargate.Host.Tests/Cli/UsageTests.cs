namespace Stargate.Host.Tests.Cli;

/// <summary>Command-line mistakes: exit 2 (or 1 where noted), one line that says what was wrong.</summary>
public class UsageTests
{
    [Fact]
    public void Stargate_WhenCommandIsUnknown_ExitsWithUsageNamingIt()
    {
        var r = StargateProcess.Run("frob");
        CliAssert.FailsWithOneLine(r, 2, "frob");
    }

    [Fact]
    public void Zone_WhenSubcommandIsUnknown_ExitsWithUsageNamingIt()
    {
        var r = StargateProcess.Run("zone", "frob");
        CliAssert.FailsWithOneLine(r, 2, "frob");
    }

    [Fact]
    public void Ls_WhenZoneArgumentIsMissing_ExitsWithUsageNamingIt()
    {
        var r = StargateProcess.Run("ls");
        CliAssert.FailsWithOneLine(r, 2, "'zone'", "stargate ls --help");
    }

    [Fact]
    public void Ls_WhenAnArgumentIsExtra_ExitsWithUsageNamingIt()
    {
        using var zone = new TempZone(16UL << 20);
        var r = StargateProcess.Run("ls", zone.Path, "/", "extra");
        CliAssert.FailsWithOneLine(r, 2, "'extra'");
    }

    [Fact]
    public void Mkdir_WhenAnOptionIsMisspelled_ExitsWithUsageAndMakesNothing()
    {
        using var zone = new TempZone(16UL << 20);
        var r = StargateProcess.Run("mkdir", zone.Path, "--parent", "/a");
        CliAssert.FailsWithOneLine(r, 2, "--parent");
        Assert.Empty(ZoneContent.List(zone.Path, "/"));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("10001")]
    public void Serve_WhenPollUsIsOutOfRange_ExitsWithUsageNamingTheRange(string us)
    {
        using var zone = new TempZone(16UL << 20);
        string socket = Path.Combine(Path.GetTempPath(), $"stargate-usage-{Guid.NewGuid():N}.sock");
        var r = StargateProcess.Run("serve", zone.Path, "--socket", socket, "--poll-us", us);
        CliAssert.FailsWithOneLine(r, 2, $"--poll-us {us}", "0..10000");
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public void ZoneCreate_WhenSizeIsMissing_ExitsWithUsageNamingTheOption()
    {
        using var zone = new TempZone(format: false);
        var r = StargateProcess.Run("zone", "create", zone.Path);
        CliAssert.FailsWithOneLine(r, 2, "--size");
        Assert.False(File.Exists(zone.Path));
    }

    [Fact]
    public void ZoneCreate_WhenSizeIsNotANumber_ExitsWithUsageNamingTheText()
    {
        using var zone = new TempZone(format: false);
        var r = StargateProcess.Run("zone", "create", zone.Path, "--size", "12X");
        CliAssert.FailsWithOneLine(r, 2, "'12X'", "not a size");
        Assert.False(File.Exists(zone.Path));
    }

    [Fact]
    public void ZoneCreate_WhenSizeIsNotAPowerOfTwo_FailsWithOneLineSayingSo()
    {
        using var zone = new TempZone(format: false);
        var r = StargateProcess.Run("zone", "create", zone.Path, "--size", "24M");
        CliAssert.FailsWithOneLine(r, [1, 2], "24 MiB", "power of two");
        Assert.False(File.Exists(zone.Path));
    }

    [Theory]
    [InlineData("8M", "8 MiB")]
    [InlineData("2T", "2 TiB")]
    public void ZoneCreate_WhenSizeIsOutOfRange_ExitsWithUsageNamingTheRange(string size, string shown)
    {
        using var zone = new TempZone(format: false);
        var r = StargateProcess.Run("zone", "create", zone.Path, "--size", size);
        CliAssert.FailsWithOneLine(r, 2, shown, "16 MiB", "1 TiB");
        Assert.False(File.Exists(zone.Path));
    }

    [Fact]
    public void Truncate_WhenSizeIsNotANumber_ExitsWithUsageAndKeepsTheFile()
    {
        using var zone = new TempZone(16UL << 20);
        byte[] data = ZoneContent.Bytes(5000, 1);
        ZoneContent.Write(zone, "/f", data);
        var r = StargateProcess.Run("truncate", zone.Path, "/f", "--size", "12X");
        CliAssert.FailsWithOneLine(r, 2, "'12X'");
        ZoneContent.AssertHolds(zone.Path, "/f", data);
    }
}
