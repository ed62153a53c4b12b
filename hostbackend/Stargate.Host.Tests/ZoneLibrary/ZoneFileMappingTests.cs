using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// ZoneFileMapping: a file of the zone mapped into this process in one range, each extent of
/// its page table at its place; reads and stores are the zone's memory, holes read zeros
/// until allocated, pages allocated by anyone are mapped once their change commits, and a
/// free of the file's pages (truncate, unlink) takes them off the mapping before anything
/// else can get them.
/// </summary>
public class ZoneFileMappingTests
{
    private const int Page = SgzAbi.PageSize;

    [Fact]
    public unsafe void Map_OfAFileInScatteredExtents_IsTheFileInOneRange_BothWays()
    {
        using var zone = new TempZone(64UL << 20);
        using var z = zone.Open();
        ulong a = z.Names.CreateFile("/a");
        ulong b = z.Names.CreateFile("/b");
        var data = new byte[(6 << 20) + 1234];
        Random.Shared.NextBytes(data);
        byte[] original = [.. data];

        // Small writes to two files in turn scatter their pages; a large one gets 2 MiB leaves.
        for (int off = 0; off < 64 * Page; off += Page)
        {
            z.Files.Write(a, (ulong)off, data.AsSpan(off, Page));
            z.Files.Write(b, (ulong)off, data.AsSpan(off, Page));
        }

        z.Files.Write(a, 64 * Page, data.AsSpan(64 * Page));
        using var map = ZoneFileMapping.Map(z, "/a", writable: true);
        Assert.Equal((ulong)data.Length, map.Size);
        Assert.Equal(0, (long)map.Address % (2 << 20));
        Assert.True(map.Span(0, data.Length).SequenceEqual(data), "the mapping reads the file's bytes in order");

        new byte[] { 1, 2, 3 }.CopyTo(map.Span(5 * Page + 7, 3));
        data[5 * Page + 7] = 1;
        data[5 * Page + 8] = 2;
        data[5 * Page + 9] = 3;
        var back = new byte[data.Length];
        z.Files.Read(a, 0, back);
        Assert.Equal(data, back);

        z.Files.Write(a, (3 << 20) + 5, "through the library"u8);
        Assert.True(map.Span((3 << 20) + 5, 19).SequenceEqual("through the library"u8));
        var other = new byte[64 * Page];
        z.Files.Read(b, 0, other);
        Assert.True(other.AsSpan().SequenceEqual(original.AsSpan(0, 64 * Page)), "the other file's interleaved pages are untouched");
    }

    [Fact]
    public void Holes_ReadZeros_UntilAllocated_AndGrowAddsAllocatedSpace()
    {
        using var zone = new TempZone(64UL << 20);
        using var z = zone.Open();
        ulong f = z.Names.CreateFile("/sparse");
        z.Files.Write(f, 3 * Page, "end"u8);
        var map = ZoneFileMapping.Map(z, "/sparse", writable: true, capacity: 8 << 20);
        Assert.Equal(-1, map.Span(0, 3 * Page).IndexOfAnyExcept((byte)0));
        Assert.True(map.Span(3 * Page, 3).SequenceEqual("end"u8));

        map.Allocate(Page, 10);
        "hole"u8.CopyTo(map.Span(Page, 4));
        var back = new byte[4];
        z.Files.Read(f, Page, back);
        Assert.Equal("hole"u8.ToArray(), back);

        map.Grow(5 << 20);
        Assert.Equal(5UL << 20, z.Names.StatInode(f).Size);
        Assert.Equal(-1, map.Span(3 * Page + 3, (5 << 20) - (3 * Page) - 3).IndexOfAnyExcept((byte)0));
        "last"u8.CopyTo(map.Span((5 << 20) - 4, 4));
        z.Files.Read(f, (5 << 20) - 4, back);
        Assert.Equal("last"u8.ToArray(), back);
        Assert.Throws<ZoneException>(() => map.Grow(9 << 20));

        // Pages someone else allocates (here the library, as a guest's write into a hole or past
        // the end would) are mapped as soon as the change commits.
        z.Files.Write(f, 2 * Page, "filled"u8);
        z.Files.Write(f, (7 << 20) + 5, "later"u8);
        Assert.True(map.Span(2 * Page, 6).SequenceEqual("filled"u8));
        Assert.True(map.Span((7 << 20) + 5, 5).SequenceEqual("later"u8));
        map.Dispose();
        CheckFsck(zone, z);
    }

    [Fact]
    public unsafe void TruncateAndUnlink_TakeTheFreedPagesOffTheMapping_BeforeAnotherFileGetsThem()
    {
        using var zone = new TempZone(32UL << 20);
        using var z = zone.Open();
        ulong f = z.Names.CreateFile("/f");
        z.Files.Write(f, 0, Enumerable.Repeat((byte)0x5a, 4 << 20).ToArray());
        using var map = ZoneFileMapping.Map(z, "/f", writable: true);
        byte* at = (byte*)map.Address;

        z.Files.Truncate(f, Page);
        Assert.Equal((ulong)Page, map.Size);
        Assert.Equal(0x5a, at[Page - 1]);

        // Whatever reuses the freed pages, the mapping's old range reads zeros, never the new file.
        ulong g = z.Names.CreateFile("/g");
        var fill = Enumerable.Repeat((byte)0xc3, 20 << 20).ToArray();
        z.Files.Write(g, 0, fill);
        Assert.Equal(-1, new ReadOnlySpan<byte>(at + Page, (4 << 20) - Page).IndexOfAnyExcept((byte)0));

        z.Names.Unlink("/f");
        Assert.Equal(0, at[0]);
        Assert.Throws<ZoneException>(() => map.Grow(2 * Page));
        var back = new byte[fill.Length];
        z.Files.Read(g, 0, back);
        Assert.Equal(fill, back);
    }

    private static void CheckFsck(TempZone zone, Zone open)
    {
        open.Dispose();
        Cli.CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));
    }
}
