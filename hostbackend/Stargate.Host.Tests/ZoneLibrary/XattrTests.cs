using Stargate.Host.Fsck;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using E = Stargate.Interop.Native.Errno;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>Extended attributes through the Zone API: each operation's effect and errors, the one-block limit, freeing, and fsck's checks of the block.</summary>
public sealed class XattrTests : IDisposable
{
    private const int ENODATA = 61;
    private readonly RequestZone _rz = new();

    private Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void SetGetListRemove_RoundTrip_AndTheLastRemoveFreesTheBlock()
    {
        var f = _rz.File(_rz.Root, "f");
        ulong pagesBefore = Z.Names.StatInode(f.Ino).Pages;
        Z.Xattrs.SetXattr("/f", "user.a", N("one"));
        Z.Xattrs.SetXattr("/f", "security.selinux", N("system_u:object_r:etc_t:s0"));
        Z.Xattrs.SetXattr("/f", "trusted.t", []);
        Z.Xattrs.SetXattr("/f", "user.a", N("two"));

        Assert.Equal(N("two"), Z.Xattrs.GetXattr("/f", "user.a"));
        Assert.Empty(Z.Xattrs.GetXattr("/f", "trusted.t"));
        Assert.Equal(["user.a", "security.selinux", "trusted.t"], Z.Xattrs.ListXattrs("/f").Select(e => e.FullName));
        Assert.Equal(pagesBefore + 1, Z.Names.StatInode(f.Ino).Pages);

        Z.Xattrs.RemoveXattr("/f", "user.a");
        Z.Xattrs.RemoveXattr("/f", "security.selinux");
        Z.Xattrs.RemoveXattr("/f", "trusted.t");
        Assert.Empty(Z.Xattrs.ListXattrs("/f"));
        Assert.Equal(pagesBefore, Z.Names.StatInode(f.Ino).Pages);
        Assert.Equal(0UL, Z.Inodes.Load(f.Ino).Xattr);
    }

    [Fact]
    public void Flags_CreateOnAnExistingName_FailsWithEEXIST_ReplaceOnAMissingOne_WithENODATA()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Xattrs.SetXattr(Caller.Host, f, N("user.a"), N("1"), SgzAbi.XattrCreate, admin: true);
        Assert.Equal(E.EEXIST, Errno(() => Z.Xattrs.SetXattr(Caller.Host, f, N("user.a"), N("2"), SgzAbi.XattrCreate, admin: true)));
        Assert.Equal(ENODATA, Errno(() => Z.Xattrs.SetXattr(Caller.Host, Ref(f), N("user.b"), N("2"), SgzAbi.XattrReplace, admin: true)));
        Z.Xattrs.SetXattr(Caller.Host, Ref(f), N("user.a"), N("3"), SgzAbi.XattrReplace, admin: true);
        Assert.Equal(E.EINVAL, Errno(() => Z.Xattrs.SetXattr(Caller.Host, Ref(f), N("user.a"), N("4"), SgzAbi.XattrCreate | SgzAbi.XattrReplace, admin: true)));
        Assert.Equal(ENODATA, Errno(() => Z.Xattrs.RemoveXattr(Caller.Host, Ref(f), N("user.b"), admin: true)));
        Assert.Equal(ENODATA, Errno(() => Z.Xattrs.GetXattr("/f", "user.b")));
        Assert.Equal(N("3"), Z.Xattrs.GetXattr("/f", "user.a"));
    }

    [Fact]
    public void Names_OutsideTheThreeNamespaces_FailWithEOPNOTSUPP_EmptyOrTooLongOnesWithEINVALOrENAMETOOLONG()
    {
        _rz.File(_rz.Root, "f");
        Assert.Equal(E.EOPNOTSUPP, Errno(() => Z.Xattrs.SetXattr("/f", "system.posix_acl_access", [2, 0, 0, 0])));
        Assert.Equal(E.EOPNOTSUPP, Errno(() => Z.Xattrs.SetXattr("/f", "other.x", N("v"))));
        Assert.Equal(E.EINVAL, Errno(() => Z.Xattrs.SetXattr("/f", "user.", N("v"))));
        Assert.Equal(E.ENAMETOOLONG, Errno(() => Z.Xattrs.SetXattr("/f", "user." + new string('n', 251), N("v"))));
        Z.Xattrs.SetXattr("/f", "user." + new string('n', 250), N("v"));
        Assert.Single(Z.Xattrs.ListXattrs("/f"));
    }

    [Fact]
    public void AFullBlock_RefusesMoreWithENOSPC_AndKeepsWhatItHad()
    {
        var f = _rz.File(_rz.Root, "f");
        // One entry of a 1-byte name takes 4 + 1 + value, padded to 4: a value of 4059 bytes fills the 4064 bytes of room.
        Z.Xattrs.SetXattr("/f", "user.a", new byte[XattrBlock.Room - 5]);
        Assert.Equal(E.ENOSPC, Errno(() => Z.Xattrs.SetXattr("/f", "user.b", [])));
        Assert.Equal(E.ENOSPC, Errno(() => Z.Xattrs.SetXattr("/f", "user.a", new byte[XattrBlock.Room - 4])));
        Assert.Equal(XattrBlock.Room - 5, Z.Xattrs.GetXattr("/f", "user.a").Length);

        Z.Xattrs.SetXattr("/f", "user.a", new byte[100]);
        for (int i = 0; ; i++)
        {
            try
            {
                Z.Xattrs.SetXattr("/f", $"user.k{i:d4}", new byte[100]);
            }
            catch (ZoneException e)
            {
                Assert.Equal(ZoneError.NoSpace, e.Error);
                Assert.Equal(i + 1, Z.Xattrs.ListXattrs("/f").Count);
                Assert.True(XattrBlock.Used(Z.Xattrs.ListXattrs("/f")) + XattrBlock.EntrySize(10, 100) > XattrBlock.Room);
                break;
            }
        }
    }

    [Fact]
    public void Permissions_FollowLinuxPerNamespace()
    {
        var d = _rz.Dir(_rz.Root, "d", mode: 0x1ff);
        var mine = _rz.File(d, "mine", User(1000));
        var theirs = _rz.File(d, "theirs", User(2000));
        var link = Z.Names.MakeNode(User(1000), d, N("l"), SgzAbi.SIflnk, N("mine"));

        Z.Xattrs.SetXattr(User(1000), mine, N("user.a"), N("v"), 0, admin: false);
        Assert.Equal(E.EACCES, Errno(() => Z.Xattrs.SetXattr(User(1000), theirs, N("user.a"), N("v"), 0, admin: false)));
        Assert.Equal(E.EPERM, Errno(() => Z.Xattrs.SetXattr(User(1000), link, N("user.a"), N("v"), 0, admin: false)));
        Assert.Equal(E.EPERM, Errno(() => Z.Xattrs.SetXattr(User(1000), mine, N("trusted.a"), N("v"), 0, admin: false)));
        Assert.Equal(E.EPERM, Errno(() => Z.Xattrs.SetXattr(User(1000), theirs, N("security.a"), N("v"), 0, admin: false)));
        Z.Xattrs.SetXattr(User(1000), link, N("security.a"), N("v"), 0, admin: false);
        Z.Xattrs.SetXattr(User(1000), Ref(mine), N("trusted.a"), N("v"), 0, admin: true);
        Assert.Equal(E.EPERM, Errno(() => Z.Xattrs.RemoveXattr(User(1000), Ref(mine), N("trusted.a"), admin: false)));

        // A sticky directory's user.* attributes: its owner only, even with write permission.
        _rz.Chmod(d, 0x3ff);
        Assert.Equal(E.EPERM, Errno(() => Z.Xattrs.SetXattr(User(1000), Ref(d), N("user.a"), N("v"), 0, admin: false)));
        Z.Xattrs.SetXattr(Caller.Host, Ref(d), N("user.a"), N("v"), 0, admin: false);
    }

    [Fact]
    public void ASet_BumpsCtimeAndChange()
    {
        var f = _rz.File(_rz.Root, "f");
        var before = Z.Inodes.Load(f.Ino);
        Thread.Sleep(2);
        Z.Xattrs.SetXattr("/f", "user.a", N("v"));
        var after = Z.Inodes.Load(f.Ino);
        Assert.True(after.CtimeNs > before.CtimeNs);
        Assert.True(after.Change > before.Change);
        Assert.Equal(before.MtimeNs, after.MtimeNs);
    }

    [Fact]
    public void Unlink_OfTheLastName_FreesTheBlock()
    {
        _rz.File(_rz.Root, "keep");
        ulong before = Z.Summarize().PoolBytesUsed;
        _rz.File(_rz.Root, "f");
        Z.Xattrs.SetXattr("/f", "user.a", N("v"));
        Assert.Equal(before + SgzAbi.XattrBlockSize, Z.Summarize().PoolBytesUsed);
        Z.Names.Unlink("/f");
        Assert.Equal(before, Z.Summarize().PoolBytesUsed);
    }

    [Fact]
    public void Fsck_FindsABadBlock_AndRepairCutsItOff()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Xattrs.SetXattr("/f", "user.a", N("value"));
        ulong block = Z.Inodes.Load(f.Ino).Xattr;
        string path = _rz.Path;
        var report = _rz.CloseAndCheck();
        Assert.Empty(report.Problems);

        using (var file = File.OpenHandle(path, System.IO.FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(file, "X"u8, (long)block + SgzAbi.XattrHeaderSize + SgzAbi.XattrEntrySize + 1);
        }

        report = ZoneChecker.Check(path, repair: false);
        Assert.Contains(report.Problems, p => p.Contains($"inode {f.Ino}") && p.Contains("checksum mismatch"));
        ZoneChecker.Check(path, repair: true);
        report = ZoneChecker.Check(path, repair: false);
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
        using var zone = Zone.Open(path, ZoneAccess.ReadOnly);
        Assert.Empty(zone.Xattrs.ListXattrs("/f"));
    }

    [Fact]
    public void Fsck_FindsABlockTwoInodesName_AndRepairLeavesItToOne()
    {
        var f = _rz.File(_rz.Root, "f");
        var g = _rz.File(_rz.Root, "g");
        Z.Xattrs.SetXattr("/f", "user.a", N("value"));
        ulong block = Z.Inodes.Load(f.Ino).Xattr;
        ulong field = Z.Geometry.InodeOffset(g.Ino) + (ulong)System.Runtime.InteropServices.Marshal.OffsetOf<SgzInode>(nameof(SgzInode.Xattr));
        string path = _rz.Path;
        Assert.Empty(_rz.CloseAndCheck().Problems);

        using (var file = File.OpenHandle(path, System.IO.FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(file, BitConverter.GetBytes(block), (long)field);
        }

        var report = ZoneChecker.Check(path, repair: false);
        Assert.Contains(report.Problems, p => p.Contains($"inode {g.Ino}") && (p.Contains("already used by inode") || p.Contains($"owner {f.Ino}")));
        ZoneChecker.Check(path, repair: true);
        report = ZoneChecker.Check(path, repair: false);
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
        using var zone = Zone.Open(path, ZoneAccess.ReadOnly);
        Assert.Equal(N("value"), zone.Xattrs.GetXattr("/f", "user.a"));
        Assert.Empty(zone.Xattrs.ListXattrs("/g"));
    }

    [Fact]
    public void SymlinkTargets_Of4095Bytes_AreKept_4096FailWithENAMETOOLONG()
    {
        byte[] longest = Enumerable.Repeat((byte)'t', SgzAbi.SymlinkTargetMax).ToArray();
        var l = Z.Names.MakeNode(Caller.Host, _rz.Root, N("l"), SgzAbi.SIflnk, longest);
        Assert.Equal(longest, Z.Names.ReadLink(l.Ino));
        Assert.Equal(E.ENAMETOOLONG, Errno(() => Z.Names.MakeNode(Caller.Host, _rz.Root, N("m"), SgzAbi.SIflnk, new byte[SgzAbi.SymlinkTargetMax + 1])));
    }

    private NodeRef Ref(NodeRef node) => _rz.Ref(node.Ino);
}
