using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>The inode API a guest's namespace requests use: each operation's effect and each of its errors; every zone fscks clean afterwards.</summary>
public sealed class NamespaceRequestTests : IDisposable
{
    private const int ENOENT = 2;
    private const int EPERM = 1;
    private const int EACCES = 13;
    private const int EEXIST = 17;
    private const int ENOTDIR = 20;
    private const int EISDIR = 21;
    private const int EINVAL = 22;
    private const int ENAMETOOLONG = 36;
    private const int ENOTEMPTY = 39;
    private const int ESTALE = 116;
    private readonly RequestZone _rz = new();

    private Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void MakeNode_OfEachType_MakesAnEntryOfThatType()
    {
        var root = _rz.Root;
        var f = _rz.File(root, "f");
        var d = _rz.Dir(root, "d");
        var p = Z.Names.MakeNode(Caller.Host, root, N("p"), SgzAbi.SIfifo | 0x1a4, []);
        var s = Z.Names.MakeNode(Caller.Host, root, N("s"), SgzAbi.SIfsock | 0x1a4, []);
        var l = Z.Names.MakeNode(Caller.Host, root, N("l"), SgzAbi.SIflnk, N("d/target"));

        var types = Z.Names.ReadDirectory(root.Ino).ToDictionary(e => e.Name, e => e.Type);
        Assert.Equal(SgzAbi.DtReg, types["f"]);
        Assert.Equal(SgzAbi.DtDir, types["d"]);
        Assert.Equal(SgzAbi.DtFifo, types["p"]);
        Assert.Equal(SgzAbi.DtSock, types["s"]);
        Assert.Equal(SgzAbi.DtLnk, types["l"]);
        Assert.Equal(N("d/target"), Z.Names.ReadLink(l.Ino));
        Assert.Equal(8UL, Z.Names.StatInode(l.Ino).Size);
        Assert.Equal(2u, Z.Names.StatInode(d.Ino).Nlink);
        Assert.Equal(3u, Z.Names.StatInode(root.Ino).Nlink);
        Assert.Equal(d.Generation, Z.Names.StatInode(d.Ino).Generation);
        Assert.All(new[] { f, p, s, l }, n => Assert.Equal(1u, Z.Names.StatInode(n.Ino).Nlink));
    }

    [Fact]
    public void Requests_FromAPeerSlotOutsideTheTable_FailWithEINVAL()
    {
        var f = _rz.File(_rz.Root, "f");
        var outside = new Caller(0, 0, (int)Z.Geometry.MaxPeers);
        Assert.Equal(EINVAL, Errno(() => _rz.File(_rz.Root, "g", outside)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.Link(outside, _rz.Root, N("h"), f)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.Rename(outside, _rz.Root, N("f"), _rz.Root, N("h"), 0)));
    }

    [Fact]
    public void MakeNode_WhenTheNameExists_FailsWithEEXIST()
    {
        _rz.File(_rz.Root, "x");
        Assert.Equal(EEXIST, Errno(() => _rz.Dir(_rz.Root, "x")));
    }

    [Theory]
    [InlineData("", EINVAL)]
    [InlineData(".", EINVAL)]
    [InlineData("..", EINVAL)]
    [InlineData("a/b", EINVAL)]
    [InlineData("a\0b", EINVAL)]
    public void MakeNode_WithAnIllegalName_FailsWithEINVAL(string name, int errno) =>
        Assert.Equal(errno, Errno(() => _rz.File(_rz.Root, name)));

    [Fact]
    public void MakeNode_WithA256ByteName_FailsWithENAMETOOLONG_And255Works()
    {
        Assert.Equal(ENAMETOOLONG, Errno(() => _rz.File(_rz.Root, new string('n', 256))));
        _rz.File(_rz.Root, new string('n', 255));
    }

    [Fact]
    public void MakeNode_OfADeviceKeepsItsNumber_AndBadLinkTargetsFailWithEINVALOrENAMETOOLONG()
    {
        var c = Z.Names.MakeNode(Caller.Host, _rz.Root, N("c"), SgzAbi.SIfchr | 0x1a4, [], rdev: (1 << 8) | 3);
        Assert.Equal((1UL << 8) | 3, Z.Names.StatInode(c.Ino).Rdev);
        Assert.Equal(EINVAL, Errno(() => Z.Names.MakeNode(Caller.Host, _rz.Root, N("p"), SgzAbi.SIfifo | 0x1a4, [], rdev: 5)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.MakeNode(Caller.Host, _rz.Root, N("l"), SgzAbi.SIflnk, [])));
        Assert.Equal(ENAMETOOLONG, Errno(() => Z.Names.MakeNode(Caller.Host, _rz.Root, N("l"), SgzAbi.SIflnk, new byte[SgzAbi.SymlinkTargetMax + 1])));
        Assert.Equal(EINVAL, Errno(() => Z.Names.MakeNode(Caller.Host, _rz.Root, N("f"), SgzAbi.SIfreg | 0x1a4, N("t"))));
        var l = Z.Names.MakeNode(Caller.Host, _rz.Root, N("l"), SgzAbi.SIflnk, Enumerable.Repeat((byte)'t', 768).ToArray());
        Assert.Equal(768, Z.Names.ReadLink(l.Ino).Length);
        Assert.DoesNotContain(Z.Names.ReadDirectory(_rz.Root.Ino), e => e.Name is "p" or "f");
    }

    [Fact]
    public void Operations_OnAnOldGenerationOrAFreedInode_FailWithESTALE()
    {
        var d = _rz.Dir(_rz.Root, "d");
        var old = d with { Generation = d.Generation - 1 };
        Assert.Equal(ESTALE, Errno(() => _rz.File(old, "f")));
        Z.Names.RemoveDirectory(Caller.Host, _rz.Root, N("d"));
        Assert.Equal(ESTALE, Errno(() => _rz.File(d, "f")));
        Assert.Equal(ESTALE, Errno(() => Z.Files.SetAttributes(Caller.Host, d, new AttributeChange(SgzAbi.AttrMode, 0x1c0, 0, 0, 0, 0, 0))));
        Assert.Equal(ESTALE, Errno(() => _rz.File(new NodeRef(Z.Geometry.InodeCount, 1), "f")));
    }

    [Fact]
    public void MakeNode_WithoutWriteAndSearchOnTheDirectory_FailsWithEACCES_ButTheOwnerAndRootMay()
    {
        var d = _rz.Dir(_rz.Root, "d");
        _rz.Chown(d, 1000, 100);
        _rz.Chmod(d, 0x1ed); // 0755
        Assert.Equal(EACCES, Errno(() => _rz.File(d, "f", User(2000, 200))));
        Assert.Equal(EACCES, Errno(() => _rz.File(d, "f", User(2000, 100))));
        var mine = _rz.File(d, "mine", User(1000, 100));
        Assert.Equal(1000u, Z.Names.StatInode(mine.Ino).Uid);
        Assert.Equal(100u, Z.Names.StatInode(mine.Ino).Gid);
        _rz.File(d, "root's", Caller.Host);
        _rz.Chmod(d, 0x1fd); // 0775: the group may now
        _rz.File(d, "group's", User(2000, 100));
    }

    [Fact]
    public void MakeNode_InASetGidDirectory_TakesItsGroup_AndANewDirectoryKeepsTheBit()
    {
        var d = _rz.Dir(_rz.Root, "d");
        _rz.Chown(d, 1000, 555);
        _rz.Chmod(d, 0x400 | 0x1ff); // 02777
        var f = _rz.File(d, "f", User(1000, 100));
        var sub = _rz.Dir(d, "sub", User(1000, 100));
        Assert.Equal(555u, Z.Names.StatInode(f.Ino).Gid);
        Assert.Equal(555u, Z.Names.StatInode(sub.Ino).Gid);
        Assert.NotEqual(0u, Z.Names.StatInode(sub.Ino).Mode & 0x400);
        Assert.Equal(0u, Z.Names.StatInode(f.Ino).Mode & 0x400);
    }

    [Fact]
    public void Link_AddsANameToTheSameInode_AndCountsIt()
    {
        var f = _rz.File(_rz.Root, "f");
        var d = _rz.Dir(_rz.Root, "d");
        Assert.Equal(f, Z.Names.Link(Caller.Host, d, N("g"), f));
        Assert.Equal(2u, Z.Names.StatInode(f.Ino).Nlink);
        Assert.Equal(f.Ino, _rz.Lookup(d, "g")!.Value.Ino);
        Z.Names.Unlink(Caller.Host, _rz.Root, N("f"));
        Assert.Equal(1u, Z.Names.StatInode(f.Ino).Nlink);
    }

    [Fact]
    public void Link_OfADirectory_FailsWithEPERM_AndOverAName_WithEEXIST()
    {
        var f = _rz.File(_rz.Root, "f");
        var d = _rz.Dir(_rz.Root, "d");
        Assert.Equal(EPERM, Errno(() => Z.Names.Link(Caller.Host, _rz.Root, N("d2"), d)));
        Assert.Equal(EEXIST, Errno(() => Z.Names.Link(Caller.Host, _rz.Root, N("d"), f)));
        Assert.Equal(ENOTDIR, Errno(() => Z.Names.Link(Caller.Host, f, N("x"), f)));
    }

    [Fact]
    public void Unlink_OfTheLastName_FreesTheInode_AndOfADirectory_FailsWithEISDIR()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[10000]);
        _rz.Dir(_rz.Root, "d");
        Assert.Equal(EISDIR, Errno(() => Z.Names.Unlink(Caller.Host, _rz.Root, N("d"))));
        Assert.Equal(ENOENT, Errno(() => Z.Names.Unlink(Caller.Host, _rz.Root, N("missing"))));
        ulong free = Z.Superblock.FreePages;
        Z.Names.Unlink(Caller.Host, _rz.Root, N("f"));
        Assert.Null(_rz.Lookup(_rz.Root, "f"));
        Assert.Equal(ESTALE, Errno(() => Z.Files.SetAttributes(Caller.Host, f, default)));
        Assert.True(Z.Superblock.FreePages > free);
    }

    [Fact]
    public void RemoveDirectory_RefusesNonEmptyAndNonDirectories_AndDropsTheParentsLinkCount()
    {
        var d = _rz.Dir(_rz.Root, "d");
        _rz.File(d, "f");
        _rz.File(_rz.Root, "file");
        Assert.Equal(ENOTEMPTY, Errno(() => Z.Names.RemoveDirectory(Caller.Host, _rz.Root, N("d"))));
        Assert.Equal(ENOTDIR, Errno(() => Z.Names.RemoveDirectory(Caller.Host, _rz.Root, N("file"))));
        Assert.Equal(ENOENT, Errno(() => Z.Names.RemoveDirectory(Caller.Host, _rz.Root, N("none"))));
        Z.Names.Unlink(Caller.Host, d, N("f"));
        Assert.Equal(3u, Z.Names.StatInode(_rz.Root.Ino).Nlink);
        Z.Names.RemoveDirectory(Caller.Host, _rz.Root, N("d"));
        Assert.Equal(2u, Z.Names.StatInode(_rz.Root.Ino).Nlink);
    }

    [Fact]
    public void Unlink_InAStickyDirectory_IsForTheOwnersOfTheFileOrDirectoryOnly()
    {
        var tmp = _rz.Dir(_rz.Root, "tmp");
        _rz.Chmod(tmp, 0x200 | 0x1ff); // 01777
        _rz.File(tmp, "alice's", User(1000));
        Assert.Equal(EPERM, Errno(() => Z.Names.Unlink(User(2000), tmp, N("alice's"))));
        Assert.Equal(EPERM, Errno(() => Z.Names.Rename(User(2000), tmp, N("alice's"), tmp, N("mine"), 0)));
        Z.Names.Unlink(User(1000), tmp, N("alice's"));
        _rz.File(tmp, "bob's", User(2000));
        Z.Names.Unlink(Caller.Host, tmp, N("bob's"));
    }

    [Fact]
    public void Rename_MovesAndReplaces_AsRenameDoes()
    {
        var a = _rz.Dir(_rz.Root, "a");
        var b = _rz.Dir(_rz.Root, "b");
        var f = _rz.File(a, "f");
        var g = _rz.File(b, "g");
        Z.Names.Rename(Caller.Host, a, N("f"), b, N("g"), 0);
        Assert.Null(_rz.Lookup(a, "f"));
        Assert.Equal(f.Ino, _rz.Lookup(b, "g")!.Value.Ino);
        Assert.Equal(ESTALE, Errno(() => Z.Files.SetAttributes(Caller.Host, g, default)));

        var sub = _rz.Dir(a, "sub");
        Z.Names.Rename(Caller.Host, a, N("sub"), b, N("sub"), 0);
        Assert.Equal(b.Ino, Z.Inodes.Load(sub.Ino).Parent);
        Assert.Equal(2u, Z.Names.StatInode(a.Ino).Nlink);
        Assert.Equal(3u, Z.Names.StatInode(b.Ino).Nlink);
    }

    [Fact]
    public void Rename_RefusesWhatRenameRefuses()
    {
        var a = _rz.Dir(_rz.Root, "a");
        var inner = _rz.Dir(a, "inner");
        _rz.File(inner, "x");
        _rz.Dir(_rz.Root, "full");
        _rz.File(Ref("full"), "y");
        _rz.File(_rz.Root, "file");
        _rz.Dir(_rz.Root, "empty");
        Assert.Equal(EINVAL, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("a"), inner, N("a2"), 0)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("a"), a, N("a2"), 0)));
        Assert.Equal(ENOTEMPTY, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("empty"), _rz.Root, N("full"), 0)));
        Assert.Equal(EISDIR, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("file"), _rz.Root, N("empty"), 0)));
        Assert.Equal(ENOTDIR, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("empty"), _rz.Root, N("file"), 0)));
        Assert.Equal(ENOENT, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("none"), _rz.Root, N("z"), 0)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("file"), _rz.Root, N("z"), SgzAbi.RenameNoreplace | SgzAbi.RenameExchange)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("file"), _rz.Root, N("z"), 4)));
        Assert.NotNull(_rz.Lookup(_rz.Root, "file"));
    }

    [Fact]
    public void Rename_WithNoReplace_FailsWithEEXISTOverAName_AndMovesOtherwise()
    {
        _rz.File(_rz.Root, "f");
        _rz.File(_rz.Root, "g");
        Assert.Equal(EEXIST, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("f"), _rz.Root, N("g"), SgzAbi.RenameNoreplace)));
        Z.Names.Rename(Caller.Host, _rz.Root, N("f"), _rz.Root, N("h"), SgzAbi.RenameNoreplace);
        Assert.NotNull(_rz.Lookup(_rz.Root, "h"));
        Assert.Null(_rz.Lookup(_rz.Root, "f"));
    }

    [Fact]
    public void Rename_WithExchange_SwapsAFileAndADirectory_AndFixesParentsAndLinkCounts()
    {
        var a = _rz.Dir(_rz.Root, "a");
        var b = _rz.Dir(_rz.Root, "b");
        var f = _rz.File(a, "x");
        var d = _rz.Dir(b, "y");
        Z.Names.Rename(Caller.Host, a, N("x"), b, N("y"), SgzAbi.RenameExchange);
        Assert.Equal(d.Ino, _rz.Lookup(a, "x")!.Value.Ino);
        Assert.Equal(f.Ino, _rz.Lookup(b, "y")!.Value.Ino);
        Assert.Equal(SgzAbi.DtDir, Z.Names.ReadDirectory(a.Ino).Single().Type);
        Assert.Equal(SgzAbi.DtReg, Z.Names.ReadDirectory(b.Ino).Single().Type);
        Assert.Equal(a.Ino, Z.Inodes.Load(d.Ino).Parent);
        Assert.Equal(3u, Z.Names.StatInode(a.Ino).Nlink);
        Assert.Equal(2u, Z.Names.StatInode(b.Ino).Nlink);
    }

    [Fact]
    public void Rename_WithExchange_NeedsBothNames_AndNeverPutsADirectoryBelowItself()
    {
        var a = _rz.Dir(_rz.Root, "a");
        _rz.Dir(a, "inner");
        _rz.File(_rz.Root, "f");
        Assert.Equal(ENOENT, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("f"), _rz.Root, N("none"), SgzAbi.RenameExchange)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.Rename(Caller.Host, a, N("inner"), _rz.Root, N("a"), SgzAbi.RenameExchange)));
        Assert.Equal(EINVAL, Errno(() => Z.Names.Rename(Caller.Host, _rz.Root, N("a"), a, N("inner"), SgzAbi.RenameExchange)));
    }

    [Fact]
    public void SetAttributes_ChangesModeKeepingTheType_OwnerGroupAndTimes()
    {
        var f = _rz.File(_rz.Root, "f");
        ulong before = ZoneClock.NowNs();
        ulong size = Z.Files.SetAttributes(Caller.Host, f, new AttributeChange(
            SgzAbi.AttrMode | SgzAbi.AttrUid | SgzAbi.AttrGid | SgzAbi.AttrAtime | SgzAbi.AttrMtime,
            SgzAbi.SIfdir | 0x180, 1000, 100, 0, 12345, SgzAbi.TimeNow));
        var s = Z.Names.StatInode(f.Ino);
        Assert.Equal(0UL, size);
        Assert.Equal(SgzAbi.SIfreg | 0x180, s.Mode);
        Assert.Equal((1000u, 100u), (s.Uid, s.Gid));
        Assert.Equal(12345UL, s.AtimeNs);
        Assert.InRange(s.MtimeNs, before, ZoneClock.NowNs());
        Assert.InRange(s.CtimeNs, before, ZoneClock.NowNs());
    }

    [Fact]
    public void SetAttributes_ChecksWhoMayChangeWhat()
    {
        var f = _rz.File(_rz.Root, "f");
        _rz.Chown(f, 1000, 100);
        _rz.Chmod(f, 0x1b6); // 0666
        AttributeChange Mode(uint m) => new(SgzAbi.AttrMode, m, 0, 0, 0, 0, 0);
        Assert.Equal(EPERM, Errno(() => Z.Files.SetAttributes(User(2000), f, Mode(0x1ff))));
        Assert.Equal(EPERM, Errno(() => Z.Files.SetAttributes(User(1000), f, new AttributeChange(SgzAbi.AttrUid, 0, 2000, 0, 0, 0, 0))));
        Assert.Equal(EPERM, Errno(() => Z.Files.SetAttributes(User(1000, 100), f, new AttributeChange(SgzAbi.AttrGid, 0, 0, 300, 0, 0, 0))));
        Assert.Equal(EPERM, Errno(() => Z.Files.SetAttributes(User(2000), f, new AttributeChange(SgzAbi.AttrMtime, 0, 0, 0, 0, 0, 5))));
        Z.Files.SetAttributes(User(2000), f, new AttributeChange(SgzAbi.AttrMtime, 0, 0, 0, 0, 0, SgzAbi.TimeNow)); // a writer may touch
        Z.Files.SetAttributes(User(1000, 200), f, new AttributeChange(SgzAbi.AttrGid, 0, 0, 200, 0, 0, 0));       // to the owner's own group
        Assert.Equal(200u, Z.Names.StatInode(f.Ino).Gid);
        _rz.Chmod(f, 0x180); // 0600
        Assert.Equal(EACCES, Errno(() => Z.Files.SetAttributes(User(2000), f, new AttributeChange(SgzAbi.AttrSize, 0, 0, 0, 10, 0, 0))));
        Assert.Equal(EACCES, Errno(() => Z.Files.SetAttributes(User(2000), f, new AttributeChange(SgzAbi.AttrAtime, 0, 0, 0, 0, SgzAbi.TimeNow, 0))));
        Assert.Equal(EINVAL, Errno(() => Z.Files.SetAttributes(Caller.Host, f, new AttributeChange(0x80, 0, 0, 0, 0, 0, 0))));
        Assert.Equal(0x180u, Z.Names.StatInode(f.Ino).Permissions);
    }

    [Fact]
    public void SetAttributes_Size_TruncatesRegularFilesOnly()
    {
        var f = _rz.File(_rz.Root, "f");
        var d = _rz.Dir(_rz.Root, "d");
        var l = Z.Names.MakeNode(Caller.Host, _rz.Root, N("l"), SgzAbi.SIflnk, N("t"));
        AttributeChange Size(ulong n) => new(SgzAbi.AttrSize, 0, 0, 0, n, 0, 0);
        Assert.Equal(5000UL, Z.Files.SetAttributes(Caller.Host, f, Size(5000)));
        Assert.Equal(5000UL, Z.Names.StatInode(f.Ino).Size);
        Assert.Equal(EISDIR, Errno(() => Z.Files.SetAttributes(Caller.Host, d, Size(0))));
        Assert.Equal(EINVAL, Errno(() => Z.Files.SetAttributes(Caller.Host, l, Size(0))));
        Assert.Equal(27, Errno(() => Z.Files.SetAttributes(Caller.Host, f, Size(SgzAbi.FileSizeMax + 1)))); // EFBIG
    }

    [Fact]
    public void Change_WhileAGuestHoldsTheSeqcount_WaitsForIt_AndFailsWithEBUSYWhenItIsHeldTooLong()
    {
        var f = _rz.File(_rz.Root, "f");
        ref uint seq = ref Z.Memory.Ref<SgzInode>(Z.Geometry.InodeOffset(f.Ino)).Seq;
        uint even = seq;
        Assert.Equal(0u, even & 1);

        seq = even | 1; // a guest mid-store that never finishes
        var chmod = new AttributeChange(SgzAbi.AttrMode, 0x1c0, 0, 0, 0, 0, 0);
        Assert.Equal(ZoneError.Busy, Fails(() => Z.Files.SetAttributes(Caller.Host, f, chmod)));
        Assert.Equal(even | 1, seq);
        Assert.Equal(RequestZone.FileMode, Z.Memory.Ref<SgzInode>(Z.Geometry.InodeOffset(f.Ino)).Mode & 0xfff);

        var guest = new Thread(() =>
        {
            Thread.Sleep(200);
            Volatile.Write(ref Z.Memory.Ref<SgzInode>(Z.Geometry.InodeOffset(f.Ino)).Seq, even + 2); // the guest finishes
        });
        guest.Start();
        Z.Files.SetAttributes(Caller.Host, f, chmod);
        guest.Join();
        Assert.Equal(0x1c0u, Z.Names.StatInode(f.Ino).Permissions);
        Assert.Equal(even + 4, seq);
    }

    private NodeRef Ref(string name) => _rz.Lookup(_rz.Root, name)!.Value;
}
