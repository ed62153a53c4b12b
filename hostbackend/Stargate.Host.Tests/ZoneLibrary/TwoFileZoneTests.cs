using System.Diagnostics;
using System.Numerics;
using Stargate.Host.Fsck;
using Stargate.Host.Tests.Support;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// Zone format 2: a zone is the structure file Z and the data file Z.data, one zone offset
/// space over both; page tables, directories and symlinks come from the pool in Z, regular
/// files' data from Z.data's data chunks; guests publish sizes and times in hints that the
/// host trusts only up to alloc_end.
/// </summary>
public sealed class TwoFileZoneTests : IDisposable
{
    private const ulong Chunk = SgzAbi.ChunkSize;
    private readonly RequestZone _rz = new(64UL << 20);

    private Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Theory]
    [InlineData(16UL << 20)]
    [InlineData(64UL << 20)]
    [InlineData(1UL << 40)]
    public void Format_MakesBothFiles_PowersOfTwo_Mode0600_WithTheChunkSpaceAcrossThem(ulong size)
    {
        using var zone = new TempZone(size);
        using var z = zone.Open(ZoneAccess.ReadOnly);
        var g = z.Geometry;

        Assert.Equal(size, g.DataFileSize);
        Assert.Equal((long)size, new FileInfo(zone.DataPath).Length);
        Assert.Equal((long)g.ZoneSize, new FileInfo(zone.Path).Length);
        Assert.True(BitOperations.IsPow2(g.ZoneSize) && g.ZoneSize >= 16UL << 20);
        Assert.True(g.PoolChunks >= Math.Max(size / SgzAbi.PoolDivisor / Chunk, SgzAbi.PoolMinChunks));
        Assert.Equal(g.ZoneSize, g.Data.Offset + (g.PoolChunks * Chunk)); // the pool ends Z
        Assert.Equal(g.ZoneSize + size, g.Data.End);                      // the data chunks end Z.data
        Assert.True(g.Rings.End <= g.Data.Offset, "the rings (replies) are in Z, before the pool");
        Assert.True(g.Hints.Offset >= g.ZoneSize + SgzAbi.PageSize && g.Hints.End <= g.ZoneSize + (g.HeaderChunks * Chunk));
        Assert.Equal(0x180u, ModeOf(zone.Path));     // 0600
        Assert.Equal(0x180u, ModeOf(zone.DataPath));
        Assert.Equal(SgzAbi.DataMagic, Raw<ulong>(zone.DataPath, 0));
        Assert.Equal(g.FileDataPages, z.Summarize().DataBytes / SgzAbi.PageSize);
        Assert.Empty(ZoneChecker.Check(zone.Path, repair: false).Problems);
    }

    [Fact]
    public void Open_WhenTheDataFileIsMissing_FailsWithOneLineNamingIt()
    {
        using var zone = new TempZone();
        File.Delete(zone.DataPath);
        var e = Assert.Throws<ZoneException>(() => zone.Open(ZoneAccess.ReadOnly));
        Assert.Equal(ZoneError.NotFound, e.Error);
        Assert.Contains(zone.DataPath, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Open_WhenTheDataFileHasAnotherSize_FailsNamingBothSizes()
    {
        using var zone = new TempZone();
        using (var data = File.OpenHandle(zone.DataPath, System.IO.FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(data, (long)zone.Size * 2);
        }

        var e = Assert.Throws<ZoneException>(() => zone.Open());
        Assert.Equal(ZoneError.Corrupt, e.Error);
        Assert.Contains("128 MiB", e.Message);
        Assert.Contains("64 MiB", e.Message);
    }

    [Fact]
    public void Open_WhenTheDataFileBelongsToAnotherZone_FailsNamingTheUuids_AndRepairDoesNotAdoptIt()
    {
        using var zone = new TempZone();
        using var other = new TempZone();
        File.Copy(other.DataPath, zone.DataPath, overwrite: true);

        var e = Assert.Throws<ZoneException>(() => zone.Open(ZoneAccess.ReadOnly));
        Assert.Contains("another zone", e.Message);
        Assert.Contains(zone.DataPath, e.Message);
        Assert.Contains("data header", ZoneChecker.Check(zone.Path, repair: false).Problems.Single());

        // Repair does not adopt another zone's data: the header stays that zone's, and open still refuses.
        var repair = ZoneChecker.Check(zone.Path, repair: true);
        Assert.Contains(repair.Notes, n => n.Contains("not repaired", StringComparison.Ordinal) && n.Contains("another zone's data file", StringComparison.Ordinal));
        Assert.DoesNotContain(repair.Repairs, r => r.Contains("data header", StringComparison.Ordinal));
        Assert.Throws<ZoneException>(() => zone.Open(ZoneAccess.ReadOnly));
    }

    [Fact]
    public void Open_WhenTheZoneIsFormat1_RefusesItWithOneLineNamingBothVersions()
    {
        using var zone = new TempZone();
        File.Delete(zone.DataPath); // a format 1 zone has no data file: the version is checked first
        using (var file = File.OpenHandle(zone.Path, System.IO.FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(file, new byte[] { 1, 0, 2, 0 }, 8); // version_major 1, version_minor 2
        }

        var e = Assert.Throws<ZoneException>(() => zone.Open(ZoneAccess.ReadOnly));
        Assert.Equal(ZoneError.VersionUnsupported, e.Error);
        Assert.Equal($"{zone.Path}: zone format 1.2 is not supported by this stargate (format {SgzAbi.VersionMajor}.{SgzAbi.VersionMinor}); move its files into a new zone with 'stargate zone migrate {zone.Path} NEW'", e.Message);
    }

    [Fact]
    public void Remove_DeletesBothFilesAndTheGuestAreas_ButNotAZoneAWriterHolds()
    {
        using var zone = new TempZone();
        using (var z = zone.Open())
        {
            z.Areas.Create(3, 0).Dispose();
            Assert.Equal(ZoneError.Busy, Assert.Throws<ZoneException>(() => Zone.Remove(zone.Path)).Error);
        }

        string other = zone.Path + ".area.x"; // not an area file of this zone: left alone
        File.WriteAllText(other, "keep");
        var info = StargateProcess.Run("zone", "info", zone.Path);
        Assert.Contains($"{zone.Path}.area.3: 64 KiB, mode 0600 (a guest's private area", info.Stdout);
        var removed = StargateProcess.Run("zone", "rm", zone.Path);
        Assert.Equal($"removed {zone.Path} and {zone.DataPath} and 1 guest area file\n", removed.Stdout);
        Assert.False(File.Exists(zone.Path));
        Assert.False(File.Exists(zone.DataPath));
        Assert.False(File.Exists(zone.Path + ".area.3"));
        Assert.True(File.Exists(other));
        File.Delete(other);
    }

    [Fact]
    public void DirectoryAndSymlinkPages_AndEveryTableNode_AreInThePool_AndFileDataInTheDataChunks()
    {
        var dir = _rz.Dir(_rz.Root, "d");
        for (int i = 0; i < 20; i++)
        {
            _rz.File(dir, $"f{i}"); // two directory pages
        }

        var link = Z.Names.MakeNode(Caller.Host, _rz.Root, N("l"), SgzAbi.SIflnk | 0x1ff, N("target"));
        var file = _rz.File(_rz.Root, "big");
        Z.Files.Write(file.Ino, 0, new byte[(3 * Chunk) + 5000]);
        var g = Z.Geometry;
        ulong firstData = g.ZoneSize + (g.HeaderChunks * Chunk);

        foreach (var (ino, length) in new (ulong Ino, ulong Length)[] { (dir.Ino, 2UL * SgzAbi.PageSize), (link.Ino, 1UL) })
        {
            for (ulong at = 0; at < length; at += SgzAbi.PageSize)
            {
                ulong offset = Z.PageTables.Map(ino, Z.Inodes.Load(ino), at).ZoneOffset;
                Assert.True(offset >= g.Data.Offset && offset < g.ZoneSize, $"inode {ino}'s page at 0x{offset:x} is not in the pool");
            }
        }

        var inode = Z.Inodes.Load(file.Ino);
        Assert.True(inode.PtDepth >= 2 && inode.PtRoot >= g.Data.Offset && inode.PtRoot < g.ZoneSize, "the file's root node is not in the pool");
        for (ulong at = 0; at < (3 * Chunk) + 5000; at += SgzAbi.PageSize)
        {
            Assert.True(Z.PageTables.Map(file.Ino, inode, at).ZoneOffset >= firstData, $"file offset {at} is not in the data chunks");
        }

        Assert.Equal(g.FileDataPages - (4 * SgzAbi.PagesPerChunk), Z.Superblock.FreePages); // data pages only
    }

    [Fact]
    public void PoolFull_IsENOSPC_WhileDataIsFree_AndDataFull_IsENOSPC_WhileThePoolIsFree()
    {
        using var zone = new TempZone(16UL << 20);
        using var z = zone.Open();
        var file = z.Names.CreateFile("/f");
        ulong dataFree = z.Superblock.FreePages;
        ulong data = dataFree * SgzAbi.PageSize;
        Assert.Equal(ZoneError.NoSpace, Assert.Throws<ZoneException>(() => z.Files.Write(file, 0, new byte[data + Chunk])).Error);
        z.Names.MakeDirectory("/still"); // the pool had room
        z.Files.Truncate(file, 0);

        int taken = 0;
        while (true)
        {
            try
            {
                z.Change(() => z.Allocator.AllocatePage(0, Allocator.NoChunk, PageKind.Pool));
                taken++;
            }
            catch (ZoneException e) when (e.Error == ZoneError.NoSpace)
            {
                Assert.Contains("structure pool", e.Message);
                break;
            }
        }

        Assert.True((ulong)taken <= z.Geometry.PoolPages);
        Assert.Equal(dataFree, z.Superblock.FreePages);
        Assert.Equal(ZoneError.NoSpace, Assert.Throws<ZoneException>(() => z.Files.Write(z.Names.CreateFile("/g"), 0, new byte[100])).Error);
    }

    [Fact]
    public void Hint_OfTheInodesGeneration_RaisesSizeAndTimes_ButSizeOnlyUpToAllocEnd()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[100]);
        var before = Z.Names.StatInode(f.Ino);
        ulong allocEnd = Z.Inodes.Load(f.Ino).AllocEnd;
        Assert.Equal(Chunk, allocEnd);

        Publish(f, size: 3000, mtime: before.MtimeNs + 5);
        var s = Z.Names.StatInode(f.Ino);
        Assert.Equal(3000UL, s.Size);
        Assert.Equal(before.MtimeNs + 5, s.MtimeNs);
        Assert.Equal(before.Change + 1, s.Change);

        // A forged size: the host reads holes up to alloc_end and never past it.
        Publish(f, size: SgzAbi.FileSizeMax, mtime: before.MtimeNs);
        Assert.Equal(allocEnd, Z.Names.StatInode(f.Ino).Size);
        var back = new byte[4 * Chunk];
        Assert.Equal((int)allocEnd, Z.Files.Read(f.Ino, 0, back));
        Assert.False(back.AsSpan(100).ContainsAnyExcept((byte)0));
        Z.Files.Write(f.Ino, allocEnd, [1]); // the host's append lands at the effective end
        Assert.Equal(allocEnd + 1, Z.Names.StatInode(f.Ino).Size);
        Assert.Empty(_rz.CloseAndCheck().Problems);
    }

    [Fact]
    public void Hint_OfAnotherGeneration_OrHeldOdd_IsIgnored_AndNeverBlocksTheHost()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[100]);
        Publish(f, size: 3000, mtime: 1, generation: f.Generation + 1);
        Assert.Equal(100UL, Z.Names.StatInode(f.Ino).Size);

        Publish(f, size: 3000, mtime: 1);
        ref var hint = ref Z.Inodes.Hint(f.Ino);
        hint.Seq |= 1; // a guest stopped mid-publish, forever
        var took = Stopwatch.StartNew();
        Assert.Equal(100UL, Z.Names.StatInode(f.Ino).Size);
        Z.Files.Truncate(f.Ino, 50);
        took.Stop();
        Assert.Equal(50UL, Z.Names.StatInode(f.Ino).Size);
        Assert.True(took.ElapsedMilliseconds < 500, $"the host waited {took.ElapsedMilliseconds} ms on a hint");
    }

    [Fact]
    public void Truncate_FoldsTheHintFirst_ThenTheHintIsIgnored()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[100]);
        Publish(f, size: 9000, mtime: Z.Names.StatInode(f.Ino).MtimeNs);
        Z.Files.Truncate(f.Ino, 5000);

        Assert.Equal(5000UL, Z.Names.StatInode(f.Ino).Size);
        Assert.Equal(5000UL, Z.Inodes.Load(f.Ino).Size);
        Assert.Equal(0u, Z.Inodes.Hint(f.Ino).Generation);

        Z.Files.Truncate(f.Ino, 0);
        Assert.Equal(0UL, Z.Inodes.Load(f.Ino).AllocEnd); // no pages left
    }

    [Fact]
    public void AFoldInAChangeThatIsUndone_KeepsTheHint_AndReleasesTheLockWord()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[100]);
        Publish(f, size: 9000, mtime: Z.Names.StatInode(f.Ino).MtimeNs);

        // As a request runs: the setattr inside a larger change, which then fails.
        Assert.Throws<InvalidOperationException>(() => Z.Change(() =>
        {
            Z.Files.SetAttributes(Caller.Host, f, new AttributeChange(SgzAbi.AttrSize, 0, 0, 0, 10, 0, 0));
            Assert.Equal((ulong)SgzAbi.HostPeerSlot + 1, Z.Inodes.Hint(f.Ino).Lock); // held to the end of the change
            throw new InvalidOperationException("the reply could not be written");
        }));

        Assert.Equal(0UL, Z.Inodes.Hint(f.Ino).Lock);
        Assert.Equal(f.Generation, Z.Inodes.Hint(f.Ino).Generation);
        Assert.Equal(9000UL, Z.Names.StatInode(f.Ino).Size);
    }

    [Fact]
    public void UtimesToThePast_FoldsTheHint_SoTheGuestsLaterMtimeDoesNotWin()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[100]);
        ulong later = Z.Names.StatInode(f.Ino).MtimeNs + 1_000_000;
        Publish(f, size: 200, mtime: later);
        Z.Files.SetAttributes(Caller.Host, f, new AttributeChange(SgzAbi.AttrMtime, 0, 0, 0, 0, 0, 1_000));

        var s = Z.Names.StatInode(f.Ino);
        Assert.Equal(1_000UL, s.MtimeNs);
        Assert.Equal(200UL, s.Size); // the guest's size was folded in, not lost
    }

    [Fact]
    public void Allocate_NeverTakesTheLockWord_AndRaisesAllocEnd()
    {
        var f = _rz.File(_rz.Root, "f");
        var guest = User(0, 0, 2);
        ref ulong word = ref Z.Inodes.Hint(f.Ino).Lock;
        word = (ulong)guest.Slot + 1; // the asking guest holds it around its write
        ulong end = Z.Files.Allocate(guest, f, 0, 3 * Chunk);
        Assert.Equal((ulong)guest.Slot + 1, word);
        Assert.Equal(end, Z.Inodes.Load(f.Ino).AllocEnd);
        word = 0;
    }

    private static uint ModeOf(string path)
    {
        Assert.Equal(0, Libc.Stat(path, out var status));
        return status.Permissions;
    }

    private static T Raw<T>(string path, long offset)
        where T : unmanaged
    {
        var buffer = new byte[System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        using var file = File.OpenHandle(path);
        RandomAccess.Read(file, buffer, offset);
        return System.Runtime.InteropServices.MemoryMarshal.Read<T>(buffer);
    }

    /// <summary>What a guest does after a write: under the hint's seqcount, size, times and change.</summary>
    private void Publish(NodeRef f, ulong size, ulong mtime, uint? generation = null)
    {
        ref var hint = ref Z.Inodes.Hint(f.Ino);
        uint seq = hint.Seq & ~1u;
        hint.Seq = seq + 1;
        hint.Generation = generation ?? f.Generation;
        hint.Size = size;
        hint.MtimeNs = hint.CtimeNs = mtime;
        hint.Change = 1;
        hint.Seq = seq + 2;
    }
}
