using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// copy_file_range done by the host (FileCopy, SGZ_OP_COPY): the bytes, holes, the target's
/// size and times, setuid and setgid, and every check. The zone must stay fsck-clean.
/// </summary>
public sealed class FileCopyTests : IDisposable
{
    private const ulong Page = 4096;
    private const ulong MiB = 1UL << 20;
    private static readonly Caller Owner = new(1000, 100, 1);
    private readonly RequestZone _rz = new(128UL << 20);

    private Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void Copy_OfThreeMiB_CopiesTheBytes_GrowsTheTarget_AndMovesItsTimes()
    {
        var data = Pattern(3 * MiB, seed: 1);
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, data);
        var dst = OwnedFile("dst");
        var before = Z.Names.StatInode(dst.Ino);

        Assert.Equal(3 * MiB, Z.Copies.Copy(Owner, src, 0, dst, 0, 3 * MiB, keepPrivileges: false));

        var after = Z.Names.StatInode(dst.Ino);
        Assert.Equal(3 * MiB, after.Size);
        Assert.True(after.MtimeNs > before.MtimeNs && after.CtimeNs > before.CtimeNs);
        Assert.Equal(data, Read(dst, 0, 3 * MiB));
    }

    [Fact]
    public void Copy_ToAnEmptyTarget_KeepsTheSourcesHolesAsHoles()
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(Page, seed: 2));
        Z.Files.Write(src.Ino, MiB, Pattern(Page, seed: 3));
        var dst = OwnedFile("dst");

        Assert.Equal(MiB + Page, Z.Copies.Copy(Owner, src, 0, dst, 0, 4 * MiB, keepPrivileges: false));

        Assert.Equal(MiB + Page, Z.Names.StatInode(dst.Ino).Size);
        Assert.Equal(Read(src, 0, MiB + Page), Read(dst, 0, MiB + Page));
        Assert.Equal(Z.Names.StatInode(src.Ino).Pages, Z.Names.StatInode(dst.Ino).Pages);
        Assert.True(Z.Names.StatInode(dst.Ino).Pages < 16, $"{Z.Names.StatInode(dst.Ino).Pages} pages for two pages of data");
    }

    [Fact]
    public void Copy_OfDataFarFromTheRest_AllocatesItsPagesOnly_AsTheSourceHas()
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(3_000_000, seed: 13));
        Z.Files.Write(src.Ino, 20_000_000, Pattern(100, seed: 14));
        var dst = OwnedFile("dst");

        Assert.Equal(20_000_100UL, Z.Copies.Copy(Owner, src, 0, dst, 0, SgzAbi.CopyMax, keepPrivileges: false)
            + Z.Copies.Copy(Owner, src, SgzAbi.CopyMax, dst, SgzAbi.CopyMax, SgzAbi.CopyMax, keepPrivileges: false)
            + Z.Copies.Copy(Owner, src, 2 * SgzAbi.CopyMax, dst, 2 * SgzAbi.CopyMax, SgzAbi.CopyMax, keepPrivileges: false)
            + Z.Copies.Copy(Owner, src, 3 * SgzAbi.CopyMax, dst, 3 * SgzAbi.CopyMax, SgzAbi.CopyMax, keepPrivileges: false)
            + Z.Copies.Copy(Owner, src, 4 * SgzAbi.CopyMax, dst, 4 * SgzAbi.CopyMax, SgzAbi.CopyMax, keepPrivileges: false));

        Assert.Equal(Z.Names.StatInode(src.Ino).Pages, Z.Names.StatInode(dst.Ino).Pages);
        Assert.Equal(Read(src, 0, 20_000_100), Read(dst, 0, 20_000_100));
    }

    [Fact]
    public void Copy_OverATargetWithData_ZeroesItWhereTheSourceHasHoles()
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(Page, seed: 4));
        Z.Files.Write(src.Ino, 2 * MiB, Pattern(Page, seed: 5));
        var dst = OwnedFile("dst");
        Z.Files.Write(dst.Ino, 0, Enumerable.Repeat((byte)0xff, (int)(3 * MiB)).ToArray());

        Assert.Equal(2 * MiB + Page, Z.Copies.Copy(Owner, src, 0, dst, 0, 2 * MiB + Page, keepPrivileges: false));

        var copied = Read(dst, 0, 3 * MiB);
        Assert.Equal(Read(src, 0, 2 * MiB + Page), copied[..(int)(2 * MiB + Page)]);
        Assert.All(copied[(int)(2 * MiB + Page)..], b => Assert.Equal(0xff, b));
        Assert.Equal(3 * MiB, Z.Names.StatInode(dst.Ino).Size);
    }

    [Fact]
    public void Copy_AtUnalignedOffsetsPastTheTargetsEnd_LeavesZerosBetween()
    {
        var src = OwnedFile("src");
        var data = Pattern(3 * Page, seed: 6);
        Z.Files.Write(src.Ino, 0, data);
        var dst = OwnedFile("dst");
        Z.Files.Write(dst.Ino, 0, "0123456789"u8);

        Assert.Equal(2 * Page, Z.Copies.Copy(Owner, src, 100, dst, 5 * Page + 7, 2 * Page, keepPrivileges: false));

        Assert.Equal((7 * Page) + 7, Z.Names.StatInode(dst.Ino).Size);
        var all = Read(dst, 0, (7 * Page) + 7);
        Assert.Equal("0123456789"u8.ToArray(), all[..10]);
        Assert.All(all[10..(int)((5 * Page) + 7)], b => Assert.Equal(0, b));
        Assert.Equal(data[100..(int)((2 * Page) + 100)], all[(int)((5 * Page) + 7)..]);
    }

    [Fact]
    public void Copy_PastTheSourcesEnd_IsShort_AndAtItsEnd_CopiesNothing()
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(1000, seed: 7));
        var dst = OwnedFile("dst");
        var before = Z.Names.StatInode(dst.Ino);

        Assert.Equal(0UL, Z.Copies.Copy(Owner, src, 1000, dst, 0, Page, keepPrivileges: false));
        Assert.Equal(before, Z.Names.StatInode(dst.Ino));
        Assert.Equal(600UL, Z.Copies.Copy(Owner, src, 400, dst, 0, Page, keepPrivileges: false));
        Assert.Equal(600UL, Z.Names.StatInode(dst.Ino).Size);
    }

    [Fact]
    public void Copy_WithinOneFile_WorksApart_AndRefusesOverlap()
    {
        var f = OwnedFile("f");
        var data = Pattern(2 * Page, seed: 8);
        Z.Files.Write(f.Ino, 0, data);

        Assert.Equal(EINVAL, Errno(() => Z.Copies.Copy(Owner, f, 0, f, Page, 2 * Page, keepPrivileges: false)));
        Assert.Equal(EINVAL, Errno(() => Z.Copies.Copy(Owner, f, Page, f, 0, 2 * Page, keepPrivileges: false)));
        Assert.Equal(2 * Page, Z.Copies.Copy(Owner, f, 0, f, 2 * Page, 2 * Page, keepPrivileges: false));
        Assert.Equal(data.Concat(data).ToArray(), Read(f, 0, 4 * Page));
    }

    [Theory]
    [InlineData(0x9ed, false, 0x1ed)]  // 04755 -> 0755
    [InlineData(0xded, false, 0x1ed)]  // 06755 -> 0755: setgid with group execute goes too
    [InlineData(0xde5, false, 0x5e5)]  // 06745 -> 02745: setgid without group execute stays (mandatory locking's mark)
    [InlineData(0xded, true, 0xded)]   // a caller with CAP_FSETID keeps both
    public void Copy_DropsSetuidAndSetgid_AsAWriteWould(uint mode, bool keep, uint after)
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(10, seed: 9));
        var dst = _rz.File(_rz.Root, "dst");
        _rz.Chown(dst, 2000, 100);
        _rz.Chmod(dst, mode | 0x12);  // group and other may write

        Z.Copies.Copy(Owner, src, 0, dst, 0, 10, keep);

        Assert.Equal(after | 0x12, Z.Names.StatInode(dst.Ino).Permissions);
    }

    [Fact]
    public void Copy_NeedsReadOnTheSource_AndWriteOnTheTarget()
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(10, seed: 10));
        var dst = OwnedFile("dst");
        var stranger = new Caller(3000, 300, 1);

        _rz.Chmod(src, 0x180);  // 0600: the owner only
        _rz.Chmod(dst, 0x1b6);  // 0666
        Assert.Equal(EACCES, Errno(() => Z.Copies.Copy(stranger, src, 0, dst, 0, 10, keepPrivileges: false)));
        _rz.Chmod(src, 0x1a4);  // 0644
        _rz.Chmod(dst, 0x1a4);
        Assert.Equal(EACCES, Errno(() => Z.Copies.Copy(stranger, src, 0, dst, 0, 10, keepPrivileges: false)));
        Assert.Equal(0UL, Z.Names.StatInode(dst.Ino).Size);
        _rz.Chmod(dst, 0x1b6);
        Assert.Equal(10UL, Z.Copies.Copy(stranger, src, 0, dst, 0, 10, keepPrivileges: false));
    }

    [Fact]
    public void Copy_OfBadInodesRangesAndLengths_IsRefused_AndChangesNothing()
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(10, seed: 11));
        var dst = OwnedFile("dst");
        var dir = _rz.Dir(_rz.Root, "d");
        var before = ZoneStateOf();

        Assert.Equal(ESTALE, Errno(() => Z.Copies.Copy(Owner, src with { Generation = src.Generation + 1 }, 0, dst, 0, 10, false)));
        Assert.Equal(ESTALE, Errno(() => Z.Copies.Copy(Owner, src, 0, dst with { Generation = dst.Generation + 1 }, 0, 10, false)));
        Assert.Equal(ESTALE, Errno(() => Z.Copies.Copy(Owner, src, 0, new NodeRef(Z.Geometry.InodeCount, 1), 0, 10, false)));
        Assert.Equal(EISDIR, Errno(() => Z.Copies.Copy(Owner, dir, 0, dst, 0, 10, false)));
        Assert.Equal(EISDIR, Errno(() => Z.Copies.Copy(Owner, src, 0, dir, 0, 10, false)));
        Assert.Equal(EINVAL, Errno(() => Z.Copies.Copy(Owner, src, 0, dst, 0, 0, false)));
        Assert.Equal(EINVAL, Errno(() => Z.Copies.Copy(Owner, src, 0, dst, 0, SgzAbi.CopyMax + 1, false)));
        Assert.Equal(EFBIG, Errno(() => Z.Copies.Copy(Owner, src, 0, dst, SgzAbi.FileSizeMax - 5, 10, false)));
        Assert.Equal(EFBIG, Errno(() => Z.Copies.Copy(Owner, src, SgzAbi.FileSizeMax, dst, 0, 10, false)));
        Assert.Equal(before, ZoneStateOf());
    }

    [Fact]
    public void Copy_UndoneWithItsChange_LeavesTheFreedPagesZero()
    {
        var src = OwnedFile("src");
        Z.Files.Write(src.Ino, 0, Pattern(64 * Page, seed: 12));
        var dst = OwnedFile("dst");
        ulong[] written = [];

        Assert.Throws<InvalidOperationException>(() => Z.Writer.Change(() =>
        {
            Z.Copies.Copy(Owner, src, 0, dst, 0, 64 * Page, keepPrivileges: false);
            written = [.. ZoneOffsets(dst, 64 * Page)];
            throw new InvalidOperationException("the change fails after the copy");
        }));

        Assert.Equal(0UL, Z.Names.StatInode(dst.Ino).Size);
        Assert.Equal(0UL, Z.Names.StatInode(dst.Ino).Pages);
        Assert.NotEmpty(written);
        Assert.All(written, at => Assert.True(Z.Memory.Span(at, Page).IndexOfAnyExcept((byte)0) < 0, $"freed page at {at} is not zero"));
    }

    private const int EINVAL = 22;
    private const int EACCES = 13;
    private const int EISDIR = 21;
    private const int EFBIG = 27;
    private const int ESTALE = 116;

    /// <summary>A file in the root owned by <see cref="Owner"/>, mode 0644.</summary>
    private NodeRef OwnedFile(string name)
    {
        var f = _rz.File(_rz.Root, name);
        _rz.Chown(f, Owner.Uid, Owner.Gid);
        return f;
    }

    private byte[] Read(NodeRef f, ulong offset, ulong length)
    {
        var buffer = new byte[length];
        Assert.Equal((int)length, Z.Files.Read(f.Ino, offset, buffer));
        return buffer;
    }

    /// <summary>The zone offsets of the file's pages in [0, length).</summary>
    private IEnumerable<ulong> ZoneOffsets(NodeRef f, ulong length)
    {
        var inode = Z.Inodes.Load(f.Ino);
        for (ulong pos = 0; pos < length; pos += Page)
        {
            var extent = Z.PageTables.Map(f.Ino, inode, pos);
            if (!extent.IsHole)
            {
                yield return extent.ZoneOffset;
            }
        }
    }

    private string ZoneStateOf() => string.Join(',', Z.Names.ReadDirectory(SgzAbi.RootIno).Select(e => Z.Names.StatInode(e.Ino)));

    private static byte[] Pattern(ulong length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
