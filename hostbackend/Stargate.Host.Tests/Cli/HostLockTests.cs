namespace Stargate.Host.Tests.Cli;

/// <summary>
/// `stargate lock ZONE PATH -- COMMAND`: a whole-file flock in the zone's lock table, taken
/// through `stargate serve` and held while COMMAND runs; guests and other host holders are
/// excluded by the same table.
/// </summary>
public class HostLockTests
{
    /// <summary>A lock holder whose command says "held" and then waits for its standard input to close.</summary>
    private static BackgroundStargate Hold(TempZone zone, string path, params string[] options)
    {
        var holder = new BackgroundStargate(["lock", zone.Path, path, .. options, "--", "sh", "-c", "echo held; read line; exit 0"]);
        holder.WaitForStdout("held");
        return holder;
    }

    private static TempZone ZoneWithFile()
    {
        var zone = new TempZone(16UL << 20);
        ZoneContent.Write(zone, "/f", [1]);
        return zone;
    }

    [Fact]
    public void Lock_WhileAnotherHolderHasIt_FailsWithoutWait_NamingTheHolder()
    {
        using var zone = ZoneWithFile();
        using var serve = BackgroundStargate.Serve(zone);
        using var holder = Hold(zone, "/f");

        var second = StargateProcess.Run("lock", zone.Path, "/f", "--", "true");

        CliAssert.FailsWithOneLine(second, 1, "/f", "locked (exclusive)", "--wait");
        holder.CloseInput();
        Assert.Equal(0, holder.WaitForExit());
        CliAssert.Succeeds(StargateProcess.Run("lock", zone.Path, "/f", "--", "true"));
    }

    [Fact]
    public void Lock_WithWait_RunsItsCommandOnceTheHolderLetsGo()
    {
        using var zone = ZoneWithFile();
        using var serve = BackgroundStargate.Serve(zone);
        var holder = Hold(zone, "/f");
        using (holder)
        {
            using var waiter = new BackgroundStargate("lock", zone.Path, "/f", "--wait", "--", "echo", "got it");
            Thread.Sleep(500);
            Assert.Equal(string.Empty, waiter.Stdout);

            holder.CloseInput();
            Assert.Equal(0, holder.WaitForExit());
            Assert.Equal(0, waiter.WaitForExit());
            Assert.Equal("got it", waiter.Stdout);
        }
    }

    [Fact]
    public void SharedLocks_AreHeldTogether_AndExcludeAnExclusiveOne()
    {
        using var zone = ZoneWithFile();
        using var serve = BackgroundStargate.Serve(zone);
        using var holder = Hold(zone, "/f", "--shared");

        CliAssert.Succeeds(StargateProcess.Run("lock", zone.Path, "/f", "--shared", "--", "true"));
        CliAssert.FailsWithOneLine(StargateProcess.Run("lock", zone.Path, "/f", "--", "true"), 1, "locked (shared)");
        holder.CloseInput();
        Assert.Equal(0, holder.WaitForExit());
    }

    [Fact]
    public void Lock_PassesOnTheCommandsOutputAndExitCode()
    {
        using var zone = ZoneWithFile();
        using var serve = BackgroundStargate.Serve(zone);

        var r = StargateProcess.Run("lock", zone.Path, "/f", "--", "sh", "-c", "echo out; echo err >&2; exit 7");

        Assert.Equal(7, r.ExitCode);
        Assert.Equal("out\n", r.Stdout);
        Assert.Equal("err\n", r.Stderr);
    }

    [Fact]
    public void Lock_WithoutServe_FailsSayingALockNeedsIt()
    {
        using var zone = ZoneWithFile();

        var r = StargateProcess.Run("lock", zone.Path, "/f", "--", "true");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, "no stargate serve", "stargate serve");
    }

    [Theory]
    [InlineData("/missing", "no such file")]
    [InlineData("/", "not a regular file")]
    public void Lock_OnAPathThatIsNotAFile_Fails(string path, string why)
    {
        using var zone = ZoneWithFile();
        using var serve = BackgroundStargate.Serve(zone);

        CliAssert.FailsWithOneLine(StargateProcess.Run("lock", zone.Path, path, "--", "true"), 1, why);
    }

    [Fact]
    public void Serve_StoppingWhileALockIsHeld_TellsTheHolder_WhichExitsFailing()
    {
        using var zone = ZoneWithFile();
        var serve = BackgroundStargate.Serve(zone);
        using var holder = Hold(zone, "/f");
        using (serve)
        {
            serve.Terminate();
            Assert.Equal(0, serve.WaitForExit());
        }

        holder.WaitForStderr("the lock on /f is lost");
        holder.CloseInput();
        Assert.Equal(1, holder.WaitForExit());

        using var again = BackgroundStargate.Serve(zone);
        CliAssert.Succeeds(StargateProcess.Run("lock", zone.Path, "/f", "--", "true"));
    }
}
