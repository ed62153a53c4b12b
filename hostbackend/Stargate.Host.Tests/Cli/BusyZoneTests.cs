using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// One writer per zone: while this test process holds a zone for writing (as
/// `stargate serve` would), another writer fails naming the holder, and
/// readers still work.
/// </summary>
public class BusyZoneTests
{
    private const string Holder = "stargate serve";

    [Theory]
    [InlineData("mkdir")]
    [InlineData("put")]
    public void Writer_WhenAnotherProcessHoldsTheZone_FailsNamingItsPidAndCommand(string command)
    {
        using var zone = new TempZone(16UL << 20);
        byte[] data = ZoneContent.Bytes(6000, 12);
        ZoneContent.Write(zone, "/f", data);
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, ZoneContent.Bytes(100, 13));
        StargateProcess.Result r;
        using (Zone.Open(zone.Path, ZoneAccess.ReadWrite, Holder))
        {
            r = command == "mkdir"
                ? StargateProcess.Run("mkdir", zone.Path, "/d")
                : StargateProcess.Run("put", zone.Path, local, "/f");
        }

        CliAssert.FailsWithOneLine(r, 1, zone.Path, $"pid {Environment.ProcessId}", Holder);
        Assert.Equal(["f"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertHolds(zone.Path, "/f", data);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Readers_WhileAnotherProcessHoldsTheZone_StillWork()
    {
        using var zone = new TempZone(16UL << 20);
        using var writer = Zone.Open(zone.Path, ZoneAccess.ReadWrite, Holder);
        writer.Names.MakeDirectory("/d");
        ulong ino = writer.Names.CreateFile("/d/hello.txt");
        writer.Files.Write(ino, 0, "hello from the writer\n"u8);

        var ls = CliAssert.Succeeds(StargateProcess.Run("ls", zone.Path, "/d"));
        var cat = CliAssert.Succeeds(StargateProcess.Run("cat", zone.Path, "/d/hello.txt"));

        Assert.Equal(["hello.txt"], CliAssert.Lines(ls));
        Assert.Equal("hello from the writer\n", cat.Stdout);
    }

    [Fact]
    public void ZoneFsck_WhileAnotherProcessHoldsTheZone_FailsNamingItsPid()
    {
        using var zone = new TempZone(16UL << 20);
        StargateProcess.Result r;
        using (Zone.Open(zone.Path, ZoneAccess.ReadWrite, Holder))
        {
            r = StargateProcess.Run("zone", "fsck", zone.Path);
        }

        CliAssert.FailsWithOneLine(r, [1, 2], zone.Path, $"pid {Environment.ProcessId}", Holder);
    }
}
