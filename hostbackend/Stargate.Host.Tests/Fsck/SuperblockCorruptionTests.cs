using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Fsck;

/// <summary>A superblock whose checksum alone is wrong: its geometry checks out, so fsck can say so and repair can rewrite it.</summary>
public class SuperblockCorruptionTests
{
    [Fact]
    public void Check_WhenOnlyTheSuperblockChecksumIsWrong_ReportsItAsAProblem()
    {
        using var zone = new CorruptibleZone();
        RawZone.FlipByte(zone.Path, RawZone.SbCreatedNs);

        zone.FindsWithoutChanging("superblock", "checksum mismatch");
    }

    [Fact]
    public void Repair_WhenOnlyTheSuperblockChecksumIsWrong_RewritesIt()
    {
        using var zone = new CorruptibleZone();
        RawZone.FlipByte(zone.Path, RawZone.SbCreatedNs);

        var report = zone.RepairsToClean();

        Assert.Contains(report.Problems, p => p.StartsWith("superblock: checksum mismatch", StringComparison.Ordinal));
        Assert.Contains(report.Repairs, p => p.StartsWith("superblock: checksum rewritten", StringComparison.Ordinal));
        Assert.Equal(Crc32C.Compute(RawZone.ReadBytes(zone.Path, 0, (int)RawZone.SbCrc)), RawZone.Read<uint>(zone.Path, RawZone.SbCrc));
        zone.AssertIntact();
    }
}
