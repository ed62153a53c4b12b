using System.Text.Json;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Cli;

/// <summary>`stargate zone create|info|fsck` through the real command.</summary>
public class ZoneCommandTests
{
    private const ulong Size16M = 16UL << 20;

    [Fact]
    public void ZoneCreate_PrintsOneLineAndMakesAZoneThatOpens()
    {
        using var zone = new TempZone(format: false);
        var r = CliAssert.Succeeds(StargateProcess.Run("zone", "create", zone.Path, "--size", "16M"));

        string line = Assert.Single(CliAssert.Lines(r));
        Assert.StartsWith($"created {zone.Path} (16 MiB) and {zone.DataPath} (16 MiB): ", line, StringComparison.Ordinal);
        Assert.Contains("1023 inodes", line, StringComparison.Ordinal);
        Assert.Equal((long)Size16M, new FileInfo(zone.Path).Length);
        Assert.Equal((long)Size16M, new FileInfo(zone.DataPath).Length);
        using (var z = Zone.Open(zone.Path, ZoneAccess.ReadOnly))
        {
            Assert.Equal(Size16M, z.Geometry.ZoneSize);
        }

        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void ZoneCreate_WhenFileExists_FailsWithOneLineAndKeepsTheFile()
    {
        using var zone = new TempZone(format: false);
        byte[] precious = ZoneContent.Bytes(8192, 2);
        File.WriteAllBytes(zone.Path, precious);

        var r = StargateProcess.Run("zone", "create", zone.Path, "--size", "16M");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, "already exists", "--force");
        ZoneContent.AssertSameBytes(precious, File.ReadAllBytes(zone.Path), "the existing file");
    }

    [Fact]
    public void ZoneCreate_WithForce_FormatsOverAnExistingFile()
    {
        using var zone = new TempZone(format: false);
        File.WriteAllBytes(zone.Path, ZoneContent.Bytes(8192, 3));

        CliAssert.Succeeds(StargateProcess.Run("zone", "create", zone.Path, "--size", "16M", "--force"));

        Assert.Equal((long)Size16M, new FileInfo(zone.Path).Length);
        ZoneContent.AssertFsckClean(zone.Path);
        Assert.Empty(ZoneContent.List(zone.Path, "/"));
    }

    [Fact]
    public void ZoneCreate_IfMissing_KeepsAZoneThatIsThere_MakesOneThatIsNot_AndRefusesAFileThatIsNoZone()
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(5000, 6);
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, data);
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/kept"));

        var kept = CliAssert.Succeeds(StargateProcess.Run("zone", "create", zone.Path, "--size", "32M", "--if-missing"));
        Assert.Contains("left as it is", kept.Stdout, StringComparison.Ordinal);
        Assert.Equal(data, ZoneContent.Read(zone.Path, "/kept"));

        string fresh = zone.Scratch("fresh.zone");
        zone.Scratch("fresh.zone.data");
        var made = CliAssert.Succeeds(StargateProcess.Run("zone", "create", fresh, "--size", "16M", "--if-missing"));
        Assert.StartsWith($"created {fresh}", made.Stdout, StringComparison.Ordinal);
        ZoneContent.AssertFsckClean(fresh);

        string junk = zone.Scratch("junk");
        File.WriteAllBytes(junk, data);
        CliAssert.FailsWithOneLine(StargateProcess.Run("zone", "create", junk, "--size", "16M", "--if-missing"), 1, junk, "not a Stargate zone");
        Assert.Equal(data, File.ReadAllBytes(junk));
        CliAssert.FailsWithOneLine(StargateProcess.Run("zone", "create", fresh, "--size", "16M", "--if-missing", "--force"), 2, "contradict");
    }

    [Fact]
    public void ZoneCreate_WithForceWhileAWriterHoldsTheZone_FailsWithOneLineAndKeepsTheZone()
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(10_000, 4);
        ZoneContent.Write(zone, "/keep", data);
        StargateProcess.Result r;
        using (Zone.Open(zone.Path, ZoneAccess.ReadWrite, "stargate serve"))
        {
            r = StargateProcess.Run("zone", "create", zone.Path, "--size", "16M", "--force");
        }

        CliAssert.FailsWithOneLine(r, 1, zone.Path);
        ZoneContent.AssertHolds(zone.Path, "/keep", data);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void ZoneInfo_ShowsSizeUsageAndEveryRegion()
    {
        using var zone = new TempZone(Size16M);
        var r = CliAssert.Succeeds(StargateProcess.Run("zone", "info", zone.Path));

        string[] lines = CliAssert.Lines(r);
        Assert.Contains(lines, l => l.StartsWith("files ", StringComparison.Ordinal) && l.Contains($"{zone.Path}: 16 MiB (16777216 bytes), mode 0600 (structure)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"{zone.DataPath}: 16 MiB (16777216 bytes), mode 0600 (data)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("pool ", StringComparison.Ordinal) && l.Contains("used of 14 MiB", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("inodes ", StringComparison.Ordinal) && l.Contains("1 used of 1023", StringComparison.Ordinal));
        Assert.Contains("regions", lines);
        foreach (string region in new[] { "superblock", "journal", "inode_bitmap", "page_bitmap", "inode_table", "data" })
        {
            Assert.Contains(lines, l => l.TrimStart().StartsWith(region + " ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ZoneInfoJson_ParsesWithSizeRegionsAndInodes()
    {
        using var zone = new TempZone(Size16M);
        ZoneGeometry g;
        using (var z = zone.Open(ZoneAccess.ReadOnly))
        {
            g = z.Geometry;
        }

        var r = CliAssert.Succeeds(StargateProcess.Run("zone", "info", zone.Path, "--json"));

        using var json = JsonDocument.Parse(r.Stdout);
        var root = json.RootElement;
        Assert.Equal(Size16M, root.GetProperty("size").GetUInt64());
        Assert.Equal(g.InodeCount - 1, root.GetProperty("inodes").GetUInt64());
        Assert.Equal(1UL, root.GetProperty("inodes_used").GetUInt64());
        var regions = root.GetProperty("regions").EnumerateArray()
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => (e.GetProperty("offset").GetUInt64(), e.GetProperty("size").GetUInt64()));
        Assert.Equal((g.Data.Offset, g.Data.Size), regions["data"]);
        Assert.Equal((g.InodeTable.Offset, g.InodeTable.Size), regions["inode_table"]);
        Assert.Equal((0UL, 4096UL), regions["superblock"]);
    }

    [Fact]
    public void ZoneFsck_OnAFreshZone_ExitsZeroAndSaysClean()
    {
        using var zone = new TempZone(Size16M);
        var r = CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));
        Assert.Equal($"{zone.Path}: clean", CliAssert.Lines(r)[^1]);
    }

    [Fact]
    public void ZoneFsck_OnAFilledZone_ExitsZeroAndSaysClean()
    {
        using var zone = new TempZone(Size16M);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectories("/a/b/c");
            for (int i = 0; i < 40; i++)
            {
                z.Files.Write(z.Names.CreateFile($"/a/b/f{i}"), 0, ZoneContent.Bytes(3000 * i, i));
            }

            z.Files.Write(z.Names.CreateFile("/big"), 0, ZoneContent.Bytes(7 << 20, 99));
            z.Names.Unlink("/a/b/f7");
        }

        var r = CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));
        Assert.Equal($"{zone.Path}: clean", CliAssert.Lines(r)[^1]);
    }

    [Fact]
    public void ZoneFsck_OnAFileThatIsNotAZone_ExitsTwoWithOneLine()
    {
        using var zone = new TempZone(format: false);
        File.WriteAllBytes(zone.Path, ZoneContent.Bytes(1 << 16, 5));
        var r = StargateProcess.Run("zone", "fsck", zone.Path);
        CliAssert.FailsWithOneLine(r, 2, zone.Path, "not a Stargate zone");
    }
}
