using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>Space for appends (ALLOCATE) and truncation: amortized allocation charged to the caller, and zeros past the end.</summary>
public sealed class AllocateAndResizeTests : IDisposable
{
    private const ulong Page = 4096;
    private readonly RequestZone _rz = new(128UL << 20);

    private Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void Allocate_ForAThousand4KAppends_TakesElevenRequests_AndChargesTheCallersPartition()
    {
        var guest = new Caller(1000, 100, 3);
        var f = _rz.File(_rz.Root, "log");
        _rz.Chown(f, guest.Uid, guest.Gid);
        ulong allocated = 0;
        int requests = 0;
        var ends = new List<ulong>();
        for (ulong i = 0; i < 1000; i++)
        {
            if ((i + 1) * Page > allocated)
            {
                allocated = Z.Files.Allocate(guest, f, i * Page, Page);
                ends.Add(allocated);
                requests++;
            }
        }

        // 1, 2, 4 ... 512 pages, then the second 2 MiB chunk.
        Assert.Equal(11, requests);
        Assert.Equal([.. Enumerable.Range(0, 10).Select(k => Page << k), 4UL << 20], ends);
        Assert.True(Z.Names.StatInode(f.Ino).Pages >= 1024);
        Assert.Equal(0UL, Z.Names.StatInode(f.Ino).Size);
        var chunk1 = Z.PageTables.Map(f.Ino, Z.Inodes.Load(f.Ino), 2UL << 20);
        ulong group = Z.Geometry.PageIndex(chunk1.ZoneOffset) / SgzAbi.PagesPerChunk / Z.Geometry.GroupChunks;
        Assert.Equal((ushort)(guest.Slot + 1), Z.Allocator.GroupOwners[(int)group]);
        Assert.Equal((uint)(group + 1), Z.Peers.Record(guest.Slot).AllocGroup);
    }

    [Fact]
    public void Allocate_FillsEveryHoleInTheRange_AndKeepsWhatIsThere()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 8192, "data"u8);
        ulong before = Z.Names.StatInode(f.Ino).Pages;
        Assert.Equal(64 * Page, Z.Files.Allocate(Caller.Host, f, 0, 40 * Page));
        for (ulong p = 0; p < 64; p++)
        {
            Assert.False(Z.PageTables.Map(f.Ino, Z.Inodes.Load(f.Ino), p * Page).IsHole);
        }

        Assert.True(Z.Names.StatInode(f.Ino).Pages > before);
        var buffer = new byte[4];
        Z.Files.Read(f.Ino, 8192, buffer);
        Assert.Equal("data"u8.ToArray(), buffer);
    }

    [Fact]
    public void Allocate_FarPastTheZonesSize_TakesOnlyThePageWritten_AndMapsIt()
    {
        // A 128 MiB zone; one byte at 64 GiB + 1 (a sparse file larger than the zone).
        var f = _rz.File(_rz.Root, "sparse");
        ulong at = (64UL << 30) + 1;
        ulong end = Z.Files.Allocate(Caller.Host, f, at, 1);
        Assert.Equal((64UL << 30) + Page, end);
        var extent = Z.PageTables.Map(f.Ino, Z.Inodes.Load(f.Ino), at);
        Assert.False(extent.IsHole);
        Assert.True(Z.PageTables.Map(f.Ino, Z.Inodes.Load(f.Ino), at + Page).IsHole);
        // The data page and three page-table nodes (depth 3 reaches 512 GiB).
        Assert.Equal(4UL, Z.Names.StatInode(f.Ino).Pages);

        // A fill that covers half a chunk or more, or follows data, takes the whole chunk (one PMD leaf).
        ulong chunk = 2UL << 20;
        Z.Files.Allocate(Caller.Host, f, 100 * chunk, chunk / 2);
        Z.Files.Allocate(Caller.Host, f, 101 * chunk, Page);
        // Two chunks and the new PMD-level node that maps them (the first GiB's).
        Assert.Equal(5UL + (2 * SgzAbi.PagesPerChunk), Z.Names.StatInode(f.Ino).Pages);
    }

    [Fact]
    public void Allocate_RefusesBadLengthsNonFilesAndCallersWithoutWritePermission()
    {
        var f = _rz.File(_rz.Root, "f");
        var d = _rz.Dir(_rz.Root, "d");
        Assert.Equal(22, Errno(() => Z.Files.Allocate(Caller.Host, f, 0, 0)));
        Assert.Equal(22, Errno(() => Z.Files.Allocate(Caller.Host, f, 0, (1UL << 30) + 1)));
        Assert.Equal(27, Errno(() => Z.Files.Allocate(Caller.Host, f, SgzAbi.FileSizeMax, 1)));
        Assert.Equal(21, Errno(() => Z.Files.Allocate(Caller.Host, d, 0, 1)));
        Assert.Equal(13, Errno(() => Z.Files.Allocate(User(2000), f, 0, 1)));
        Assert.Equal(22, Errno(() => Z.Files.Allocate(new Caller(0, 0, (int)Z.Geometry.MaxPeers), f, 0, 1)));
        Assert.Equal(0UL, Z.Names.StatInode(f.Ino).Pages);
    }

    [Fact]
    public void Shrink_ZeroesTheTailOfTheLastKeptPage_SoAGrowReadsZeros()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, Enumerable.Repeat((byte)0xff, 8000).ToArray());
        Z.Files.SetAttributes(Caller.Host, f, new AttributeChange(SgzAbi.AttrSize, 0, 0, 0, 100, 0, 0));
        var page = Z.PageTables.Map(f.Ino, Z.Inodes.Load(f.Ino), 0);
        Assert.False(Z.Memory.Span(page.ZoneOffset + 100, Page - 100).ContainsAnyExcept((byte)0));
        Assert.True(Z.PageTables.Map(f.Ino, Z.Inodes.Load(f.Ino), Page).IsHole);

        Z.Files.Truncate(f.Ino, 8000);
        var back = new byte[8000];
        Z.Files.Read(f.Ino, 0, back);
        Assert.All(back[..100], b => Assert.Equal(0xff, b));
        Assert.False(back.AsSpan(100).ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void Shrink_InsideA2MiBLeaf_ZeroesTheRestOfTheLeaf()
    {
        var f = _rz.File(_rz.Root, "big");
        Z.Files.Write(f.Ino, 0, Enumerable.Repeat((byte)0xab, 4 << 20).ToArray());
        ulong cut = (2UL << 20) + 12345;
        Z.Files.Truncate(f.Ino, cut);
        var leaf = Z.PageTables.Map(f.Ino, Z.Inodes.Load(f.Ino), 2UL << 20);
        Assert.False(leaf.IsHole);
        ulong start = leaf.ZoneOffset - (leaf.ZoneOffset % ZoneGeometry.ChunkSize);
        Assert.All(Z.Memory.Span(start, 12345).ToArray(), b => Assert.Equal(0xab, b));
        Assert.False(Z.Memory.Span(start + 12345, ZoneGeometry.ChunkSize - 12345).ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void Truncate_WhileAGuestHoldsTheInodeLock_FailsWithEBUSY_AndTakesAndFreesTheLockOtherwise()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[100]);
        ref ulong word = ref Z.Memory.Ref<SgzHint>(Z.Geometry.HintOffset(f.Ino)).Lock;
        Z.Peers.Set(2, live: true); // a word naming no live guest is taken over (GuestHoldTests)
        word = 2 + 1;
        Assert.Equal(ZoneError.Busy, Fails(() => Z.Files.Truncate(f.Ino, 0)));
        Assert.Equal(100UL, Z.Names.StatInode(f.Ino).Size);
        word = 0;
        Z.Files.Truncate(f.Ino, 0);
        Assert.Equal(0UL, word);
        Assert.Equal(0UL, Z.Names.StatInode(f.Ino).Size);
    }
}
