using Stargate.Host.Tests.Cli;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Fsck;

/// <summary>
/// A writer that died mid-change leaves the journal ACTIVE: fsck says so and
/// changes nothing; fsck --repair rolls the change back, leaving the zone as
/// it was before the change.
/// </summary>
public class JournalTests
{
    [Fact]
    public void Check_WhenAWriterDiedMidChange_ReportsItAndRepairRollsItBack()
    {
        using var zone = new CorruptibleZone();
        using (var z = Zone.Open(zone.Path, ZoneAccess.ReadWrite))
        {
            // The fifth crash point of an unlink falls after it has cleared the entry and
            // changed the directory's inode: the zone is mid-change when the writer dies.
            z.InjectCrashAt(5, static () => throw new SimulatedCrashException());
            Assert.Throws<SimulatedCrashException>(() => z.Names.Unlink("/small"));
            z.Abandon();
        }

        zone.FindsWithoutChanging("journal", "unfinished change");
        var cli = StargateProcess.Run("zone", "fsck", zone.Path);
        Assert.True(cli.ExitCode == 1 && cli.Stderr.Length == 0, cli.ToString());
        Assert.Contains("problem: journal: holds an unfinished change", cli.Stdout, StringComparison.Ordinal);

        var report = zone.RepairsToClean();

        Assert.Contains(report.Repairs, r => r.StartsWith("journal: undid the unfinished change", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Repairs, r => r.Contains("(0 records)", StringComparison.Ordinal));
        zone.AssertIntact();
        Assert.Equal(["big", "docs", "empty", "small"], ZoneContent.List(zone.Path, "/"));
    }
}
