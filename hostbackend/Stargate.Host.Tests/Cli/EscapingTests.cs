using Stargate.Host.Cli;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// A name or recorded command from a zone reaches the terminal with its control characters
/// escaped (one function, Printable.Escape): it cannot move the cursor, recolour, clear the
/// screen or forge a line of output.
/// </summary>
public class EscapingTests
{
    private const string EvilName = "a\nb\x1b[2Jc\\d\x7f\u0085e";
    private const string EvilNameShown = @"a\nb\x1b[2Jc\\d\x7f\x85e";

    [Fact]
    public void Escape_WritesNewlineAsBackslashN_OtherControlsAsHex_AndDoublesBackslash()
    {
        Assert.Equal(EvilNameShown, Printable.Escape(EvilName));
        Assert.Equal(@"\t\r\x00\x1f\x9f", Printable.Escape("\t\r\0\x1f\u009f"));
        Assert.Equal("plain name ü €", Printable.Escape("plain name ü €"));
    }

    [Fact]
    public void Ls_NameWithNewlineAndEscapeSequence_IsPrintedOnOneLineEscaped()
    {
        using var zone = new TempZone(16UL << 20);
        using (var z = zone.Open())
        {
            z.Names.CreateFile("/" + EvilName);
            z.Names.CreateFile("/plain");
        }

        var ls = CliAssert.Succeeds(StargateProcess.Run("ls", zone.Path));
        Assert.Equal($"{EvilNameShown}\nplain\n", ls.Stdout);
        var longLs = CliAssert.Succeeds(StargateProcess.Run("ls", "-l", zone.Path));
        Assert.Equal(2, CliAssert.Lines(longLs).Length);
        Assert.EndsWith(" " + EvilNameShown, CliAssert.Lines(longLs)[0]);
    }

    [Fact]
    public void BusyMessage_WriterCommandWithControlCharacters_IsPrintedEscaped()
    {
        using var zone = new TempZone(16UL << 20);
        StargateProcess.Result r;
        using (Zone.Open(zone.Path, ZoneAccess.ReadWrite, "x\n\x1b]0;owned\a"))
        {
            r = StargateProcess.Run("mkdir", zone.Path, "/d");
        }

        CliAssert.FailsWithOneLine(r, 1, zone.Path, @"(x\n\x1b]0;owned\x07)");
    }

    [Fact]
    public void ZoneInfo_WriterCommandWithControlCharacters_IsPrintedEscaped()
    {
        using var zone = new TempZone(16UL << 20);
        using var writer = Zone.Open(zone.Path, ZoneAccess.ReadWrite, "y\r\x1b[1A");
        var info = StargateProcess.Run("zone", "info", zone.Path);
        Assert.Equal(0, info.ExitCode);
        Assert.Contains(@"(y\r\x1b[1A) since", CliAssert.Lines(info).Single(l => l.StartsWith("writer", StringComparison.Ordinal)));
    }
}
