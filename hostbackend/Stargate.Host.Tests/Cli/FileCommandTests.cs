using System.Text;
using System.Text.Json;

namespace Stargate.Host.Tests.Cli;

/// <summary>The file commands doing their job, checked against what the zone then holds.</summary>
public class FileCommandTests
{
    private const ulong Size16M = 16UL << 20;

    [Fact]
    public void PutThenGet_OfARandom5MiBFile_RoundTripsEveryByte()
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(5 << 20, 40);
        string local = zone.Scratch("in");
        string back = zone.Scratch("out");
        File.WriteAllBytes(local, data);

        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/five"));
        CliAssert.Succeeds(StargateProcess.Run("get", zone.Path, "/five", back));

        ZoneContent.AssertHolds(zone.Path, "/five", data);
        ZoneContent.AssertSameBytes(data, File.ReadAllBytes(back), "the file got back");
    }

    [Fact]
    public void PutThenGet_OfASparseFile_RoundTripsEveryByte()
    {
        using var zone = new TempZone(Size16M);
        string local = zone.Scratch("sparse");
        string back = zone.Scratch("out");
        byte[] head = ZoneContent.Bytes(1000, 41);
        byte[] tail = ZoneContent.Bytes(3000, 42);
        using (var f = new FileStream(local, FileMode.CreateNew))
        {
            f.Write(head);
            f.SetLength((3 << 20) + 12345);
            f.Seek(0, SeekOrigin.End);
            f.Write(tail);
        }

        byte[] expected = File.ReadAllBytes(local);

        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/sparse"));
        CliAssert.Succeeds(StargateProcess.Run("get", zone.Path, "/sparse", back));

        ZoneContent.AssertSameBytes(expected, File.ReadAllBytes(back), "the sparse file got back");
    }

    [Fact]
    public void Cat_OfASmallFile_WritesItsBytesToStdout()
    {
        using var zone = new TempZone(Size16M);
        const string text = "one line\nand another\n";
        ZoneContent.Write(zone, "/note.txt", Encoding.UTF8.GetBytes(text));

        var r = CliAssert.Succeeds(StargateProcess.Run("cat", zone.Path, "/note.txt"));

        Assert.Equal(text, r.Stdout);
    }

    [Fact]
    public void Get_ToDash_WritesTheFileToStdout()
    {
        using var zone = new TempZone(Size16M);
        string text = string.Concat(Enumerable.Range(0, 500).Select(i => $"line {i}\n"));
        ZoneContent.Write(zone, "/d.txt", Encoding.UTF8.GetBytes(text));

        var r = CliAssert.Succeeds(StargateProcess.Run("get", zone.Path, "/d.txt", "-"));

        Assert.Equal(text, r.Stdout);
    }

    [Fact]
    public void Get_ToAHostDirectory_WritesTheFileUnderItsName()
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(20_000, 43);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/sub");
        }

        ZoneContent.Write(zone, "/sub/name.bin", data);
        string dir = zone.Scratch("dir");
        Directory.CreateDirectory(dir);
        try
        {
            CliAssert.Succeeds(StargateProcess.Run("get", zone.Path, "/sub/name.bin", dir));

            Assert.Equal(["name.bin"], Directory.GetFiles(dir).Select(Path.GetFileName));
            ZoneContent.AssertSameBytes(data, File.ReadAllBytes(Path.Combine(dir, "name.bin")), "the file got back");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Ls_ListsNamesSortedAndLsLongShowsTypeSizeAndName()
    {
        using var zone = new TempZone(Size16M);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/dir");
            z.Files.Write(z.Names.CreateFile("/b"), 0, new byte[1234]);
            z.Names.CreateFile("/a");
            z.Names.CreateFile("/C");
        }

        var plain = CliAssert.Succeeds(StargateProcess.Run("ls", zone.Path));
        var full = CliAssert.Succeeds(StargateProcess.Run("ls", zone.Path, "/", "-l"));

        Assert.Equal(["C", "a", "b", "dir"], CliAssert.Lines(plain));
        string[] lines = CliAssert.Lines(full);
        Assert.Equal(["C", "a", "b", "dir"], lines.Select(l => l.Split(' ')[^1]));
        Assert.StartsWith("-rw-r--r--", lines[2], StringComparison.Ordinal);
        Assert.Contains(" 1234 ", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("drwxr-xr-x", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Stat_ShowsSizeAndLinksAndStatJsonParses()
    {
        using var zone = new TempZone(Size16M);
        ulong ino = ZoneContent.Write(zone, "/f", new byte[5000]);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectories("/d/e");
        }

        var text = CliAssert.Succeeds(StargateProcess.Run("stat", zone.Path, "/f"));
        var json = CliAssert.Succeeds(StargateProcess.Run("stat", zone.Path, "/d", "--json"));

        Assert.Contains("Size: 5000", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Inode: {ino}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("Links: 1", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("regular file", text.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(3u, doc.RootElement.GetProperty("nlink").GetUInt32());
        Assert.Equal(4096UL, doc.RootElement.GetProperty("size").GetUInt64());
        Assert.Equal(1UL, doc.RootElement.GetProperty("entries").GetUInt64());
    }

    [Fact]
    public void MkdirParents_MakesEveryMissingDirectoryAndAcceptsOnesThatExist()
    {
        using var zone = new TempZone(Size16M);

        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "-p", "/a/b/c", "/a/x"));
        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "-p", "/a/b/c"));

        Assert.Equal(["b", "x"], ZoneContent.List(zone.Path, "/a"));
        Assert.Equal(["c"], ZoneContent.List(zone.Path, "/a/b"));
        Assert.Empty(ZoneContent.List(zone.Path, "/a/b/c"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Mv_IntoADirectory_MovesTheFileUnderItsName()
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(9000, 44);
        ZoneContent.Write(zone, "/f", data);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/d");
        }

        CliAssert.Succeeds(StargateProcess.Run("mv", zone.Path, "/f", "/d"));

        Assert.Equal(["d"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertHolds(zone.Path, "/d/f", data);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Mv_OntoAFile_ReplacesIt()
    {
        using var zone = new TempZone(Size16M);
        byte[] winner = ZoneContent.Bytes(9000, 45);
        ZoneContent.Write(zone, "/new", winner);
        ZoneContent.Write(zone, "/old", ZoneContent.Bytes(30_000, 46));

        CliAssert.Succeeds(StargateProcess.Run("mv", zone.Path, "/new", "/old"));

        Assert.Equal(["old"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertHolds(zone.Path, "/old", winner);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Theory]
    [InlineData(20_000, 5_000, 30_000)]
    [InlineData((3 << 20) + 100, (1 << 20) + 5, (3 << 20) + 7)]
    public void Truncate_ShrinksThenGrows_AndTheGrownPartReadsAsZeros(int length, int shrunk, int grown)
    {
        using var zone = new TempZone(Size16M);
        byte[] data = ZoneContent.Bytes(length, 47);
        ZoneContent.Write(zone, "/f", data);

        CliAssert.Succeeds(StargateProcess.Run("truncate", zone.Path, "/f", "--size", shrunk.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        ZoneContent.AssertHolds(zone.Path, "/f", data[..shrunk]);
        CliAssert.Succeeds(StargateProcess.Run("truncate", zone.Path, "/f", "-s", grown.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        byte[] expected = new byte[grown];
        data.AsSpan(0, shrunk).CopyTo(expected);
        ZoneContent.AssertHolds(zone.Path, "/f", expected);
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Put_OntoAnExistingFile_ReplacesItsContentsAndSize()
    {
        using var zone = new TempZone(Size16M);
        ZoneContent.Write(zone, "/f", ZoneContent.Bytes(3 << 20, 48));
        byte[] shorter = ZoneContent.Bytes(7000, 49);
        string local = zone.Scratch("shorter");
        File.WriteAllBytes(local, shorter);

        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/f"));

        ZoneContent.AssertHolds(zone.Path, "/f", shorter);
        Assert.Equal(["f"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Put_IntoAnExistingDirectory_StoresTheFileUnderItsHostName()
    {
        using var zone = new TempZone(Size16M);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/in");
        }

        byte[] data = ZoneContent.Bytes(10_000, 50);
        string local = zone.Scratch("host-name");
        File.WriteAllBytes(local, data);

        CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/in"));

        ZoneContent.AssertHolds(zone.Path, "/in/" + Path.GetFileName(local), data);
    }

    [Fact]
    public void RmRecursive_RemovesADirectoryWithEverythingInIt_AndLeavesItsNeighbours()
    {
        using var zone = new TempZone(Size16M);
        using (var z = zone.Open())
        {
            z.Names.MakeDirectories("/t/a/b/c");
            z.Names.MakeDirectory("/t/empty");
            z.Names.MakeDirectory("/keep");
            foreach (string file in new[] { "/t/f", "/t/a/g", "/t/a/b/c/h", "/keep/k" })
            {
                z.Files.Write(z.Names.CreateFile(file), 0, Encoding.ASCII.GetBytes(file));
            }

            var root = z.Names.Stat("/t");
            z.Names.MakeNode(Stargate.Host.Zones.Caller.Host, new(root.Ino, root.Generation), "link"u8, Stargate.Interop.Abi.SgzAbi.SIflnk | 0x1ff, "a/g"u8);
        }

        CliAssert.Succeeds(StargateProcess.Run("rm", "-r", zone.Path, "/t/"));

        Assert.Equal(["keep"], ZoneContent.List(zone.Path, "/"));
        ZoneContent.AssertHolds(zone.Path, "/keep/k", Encoding.ASCII.GetBytes("/keep/k"));
        ZoneContent.AssertFsckClean(zone.Path);
    }

    [Fact]
    public void Rm_OfADirectory_WithoutRecursive_FailsAndKeepsIt()
    {
        using var zone = new TempZone(Size16M);
        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "/d"));

        CliAssert.FailsWithOneLine(StargateProcess.Run("rm", zone.Path, "/d"), 1, "/d");

        Assert.Equal(["d"], ZoneContent.List(zone.Path, "/"));
    }

    [Fact]
    public void RmRecursive_OfTheRoot_FailsSayingWhy_AndRemovesNothing()
    {
        using var zone = new TempZone(Size16M);
        CliAssert.Succeeds(StargateProcess.Run("mkdir", zone.Path, "/d"));

        CliAssert.FailsWithOneLine(StargateProcess.Run("rm", "--recursive", zone.Path, "/"), 1, "root of the zone cannot be removed");

        Assert.Equal(["d"], ZoneContent.List(zone.Path, "/"));
    }
}
