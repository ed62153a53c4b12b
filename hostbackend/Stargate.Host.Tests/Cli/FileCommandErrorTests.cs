namespace Stargate.Host.Tests.Cli;

/// <summary>
/// A user's mistake on a file command: one line naming the path and what is
/// wrong, exit 1, and the zone as it was (fsck clean, files intact).
/// </summary>
public class FileCommandErrorTests
{
    private const ulong Size16M = 16UL << 20;

    [Theory]
    [InlineData("ls")]
    [InlineData("stat")]
    [InlineData("cat")]
    [InlineData("get")]
    [InlineData("rm")]
    [InlineData("rmdir")]
    [InlineData("truncate")]
    public void Command_WhenPathIsMissing_FailsWithOneLineNamingIt(string command)
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(3000, 20);
        ZoneContent.Write(zone, "/here", data);
        string local = zone.Scratch("got");
        string[] args = command switch
        {
            "get" => ["get", zone.Path, "/gone", local],
            "truncate" => ["truncate", zone.Path, "/gone", "--size", "1"],
            _ => [command, zone.Path, "/gone"],
        };

        var r = StargateProcess.Run(args);

        CliAssert.FailsWithOneLine(r, 1, "/gone", "no such file or directory");
        Assert.False(File.Exists(local));
        ZoneContent.AssertHolds(zone.Path, "/here", data);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Put_WhenHostFileIsMissing_FailsWithOneLineNamingIt()
    {
        using var zone = new TempZone(Size16M);
        string missing = zone.Scratch("missing");

        var r = StargateProcess.Run("put", zone.Path, missing, "/f");

        CliAssert.FailsWithOneLine(r, 1, missing, "no such host file");
        Assert.Empty(ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Get_WhenHostDirectoryIsMissing_FailsWithOneLineNamingIt()
    {
        using var zone = new TempZone(Size16M);
        ZoneContent.Write(zone, "/f", ZoneContent.Bytes(100, 21));
        string target = zone.Scratch("nodir") + "/f";

        var r = StargateProcess.Run("get", zone.Path, "/f", target);

        CliAssert.FailsWithOneLine(r, 1, target, "no such host directory");
    }

    [Fact]
    public void Put_WhenFileIsBiggerThanTheDataSpace_FailsWithOneLineAndKeepsTheZone()
    {
        using var zone = new TempZone(Size16M);
        byte[] keep = ZoneContent.Bytes(50_000, 22);
        ZoneContent.Write(zone, "/keep", keep);
        string local = zone.Scratch("huge");
        File.WriteAllBytes(local, ZoneContent.Bytes(15 << 20, 23));

        var r = StargateProcess.Run("put", zone.Path, local, "/huge");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, "no free");
        ZoneContent.AssertHolds(zone.Path, "/keep", keep);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Put_WhenZoneIsFull_FailsAndFitsAfterRmFreesSpace()
    {
        using var zone = new TempZone(Size16M);
        byte[] a = ZoneContent.Bytes(6 << 20, 24);
        byte[] b = ZoneContent.Bytes(6 << 20, 25);
        byte[] c = ZoneContent.Bytes(6 << 20, 26);
        ZoneContent.Write(zone, "/a", a);
        ZoneContent.Write(zone, "/b", b);
        string local = zone.Scratch("c");
        File.WriteAllBytes(local, c);

        var full = StargateProcess.Run("put", zone.Path, local, "/c");
        CliAssert.FailsWithOneLine(full, 1, zone.Path, "no free");
        ZoneContent.AssertHolds(zone.Path, "/b", b);
        ZoneContent.AssertFsckClean(zone.Path);

        CliAssert.Succeeds(StargateProcess.Run("rm", zone.Path, "/a"));
        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/c"));

        ZoneContent.AssertHolds(zone.Path, "/c", c);
        ZoneContent.AssertHolds(zone.Path, "/b", b);
        Assert.False(ZoneContent.Exists(zone.Path, "/a"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Put_WhenReplacingAFileRunsOutOfSpace_KeepsTheOldContents()
    {
        using var zone = new TempZone(Size16M);
        byte[] old = ZoneContent.Bytes(6 << 20, 27);
        byte[] other = ZoneContent.Bytes(6 << 20, 28);
        ZoneContent.Write(zone, "/a", old);
        ZoneContent.Write(zone, "/other", other);
        string local = zone.Scratch("new");
        File.WriteAllBytes(local, ZoneContent.Bytes(12 << 20, 29));

        var r = StargateProcess.Run("put", zone.Path, local, "/a");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, "no free");
        ZoneContent.AssertHolds(zone.Path, "/other", other);
        ZoneContent.AssertFsckClean(zone.Path);
        ZoneContent.AssertHolds(zone.Path, "/a", old);
    }

    [Fact]
    public void Mkdir_WhenNoInodeIsFree_FailsWithOneLineSayingSo()
    {
        using var zone = new TempZone(Size16M);
        using (var z = zone.Open())
        {
            ulong free = z.Geometry.InodeCount - 2;
            for (ulong i = 0; i < free; i++)
            {
                z.Names.CreateFile($"/f{i}");
            }
        }

        var r = StargateProcess.Run("mkdir", zone.Path, "/one-too-many");

        CliAssert.FailsWithOneLine(r, 1, zone.Path, "no free inodes");
        Assert.False(ZoneContent.Exists(zone.Path, "/one-too-many"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Mkdir_WhenNameIs256Bytes_FailsWithOneLineGivingTheLimit()
    {
        using var zone = new TempZone(Size16M);
        string name = new('n', 256);

        var r = StargateProcess.Run("mkdir", zone.Path, "/" + name);

        CliAssert.FailsWithOneLine(r, 1, name[..20], "256 bytes", "255");
        Assert.Empty(ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Put_WhenNameIs256Bytes_FailsWithOneLineGivingTheLimit()
    {
        using var zone = new TempZone(Size16M);
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, ZoneContent.Bytes(100, 30));

        var r = StargateProcess.Run("put", zone.Path, local, "/" + new string('p', 256));

        CliAssert.FailsWithOneLine(r, 1, "256 bytes", "255");
        Assert.Empty(ZoneContent.List(zone.Path, "/"));
    }

    [Fact]
    public void Mkdir_WhenNameIs255Bytes_Works()
    {
        using var zone = new TempZone(Size16M);
        string name = new('n', 255);

        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "/" + name));

        Assert.Equal([name], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Rmdir_WhenDirectoryIsNotEmpty_FailsWithOneLineAndKeepsIt()
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(4000, 31);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/d");
        }

        ZoneContent.Write(zone, "/d/f", data);

        var r = StargateProcess.Run("rmdir", zone.Path, "/d");

        CliAssert.FailsWithOneLine(r, 1, "/d", "not empty");
        ZoneContent.AssertHolds(zone.Path, "/d/f", data);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Rm_WhenPathIsADirectory_FailsWithOneLineAndKeepsIt()
    {
        using var zone = new TempZone(Size16M);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/d");
        }

        var r = StargateProcess.Run("rm", zone.Path, "/d");

        CliAssert.FailsWithOneLine(r, 1, "/d", "is a directory", "rmdir");
        Assert.Equal(["d"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Theory]
    [InlineData("cat")]
    [InlineData("get")]
    [InlineData("truncate")]
    public void Command_WhenPathIsADirectory_FailsWithOneLineNamingThePath(string command)
    {
        using var zone = new TempZone(Size16M);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/dir");
        }

        string local = zone.Scratch("got");
        string[] args = command switch
        {
            "get" => ["get", zone.Path, "/dir", local],
            "truncate" => ["truncate", zone.Path, "/dir", "--size", "1"],
            _ => [command, zone.Path, "/dir"],
        };

        var r = StargateProcess.Run(args);

        CliAssert.FailsWithOneLine(r, 1, "/dir", "is a directory");
        Assert.False(File.Exists(local));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Theory]
    [InlineData("ls")]
    [InlineData("mkdir")]
    public void Command_WhenAPathPartIsAFile_FailsWithOneLineSayingNotADirectory(string command)
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(2000, 32);
        ZoneContent.Write(zone, "/file", data);

        var r = StargateProcess.Run(command, zone.Path, "/file/x");

        CliAssert.FailsWithOneLine(r, 1, "/file", "not a directory");
        ZoneContent.AssertHolds(zone.Path, "/file", data);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Mkdir_WhenDirectoryExists_FailsWithOneLineSayingSo()
    {
        using var zone = new TempZone(Size16M);
        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "/d"));

        var r = StargateProcess.Run("mkdir", zone.Path, "/d");

        CliAssert.FailsWithOneLine(r, 1, "/d", "already exists");
        Assert.Equal(["d"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertFsckClean(zone.Path);
    }
}
