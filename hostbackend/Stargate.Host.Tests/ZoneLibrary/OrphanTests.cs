using Stargate.Host.Fsck;
using Stargate.Host.Tests.Cli;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>Unlinked but open: the orphan rule for every way a last name goes, freeing at the last close, and fsck's view of orphans.</summary>
public sealed class OrphanTests : IDisposable
{
    private readonly RequestZone _rz = new();
    private readonly GuestOpenTable _opens;

    public OrphanTests() => _opens = new GuestOpenTable(_rz.Z);

    private Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void Unlink_OfAnOpenFile_KeepsItAsAnOrphan_UntilItIsClosed()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, "still here"u8);
        _opens.Open(f);
        Z.Names.Unlink(Caller.Host, _rz.Root, N("f"));

        Assert.Null(_rz.Lookup(_rz.Root, "f"));
        Assert.True(Z.Orphans.IsOrphan(f.Ino));
        var s = Z.Names.StatInode(f.Ino);
        Assert.Equal(0u, s.Nlink);
        Assert.Equal(f.Generation, s.Generation);
        var buffer = new byte[10];
        Z.Files.Read(f.Ino, 0, buffer);
        Assert.Equal("still here"u8.ToArray(), buffer);
        Z.Files.Allocate(Caller.Host, f, 0, 1 << 20);
        Assert.Equal(2, Errno(() => Z.Names.Link(Caller.Host, _rz.Root, N("back"), f)));

        Assert.Equal(0, Z.Orphans.FreeUnheld());
        Assert.True(Z.Orphans.IsOrphan(f.Ino));
        _opens.CloseAll();
        Assert.Equal(1, Z.Orphans.FreeUnheld());
        Assert.False(Z.Orphans.IsOrphan(f.Ino));
        Assert.Equal(116, Errno(() => Z.Files.SetAttributes(Caller.Host, f, default)));
    }

    [Fact]
    public void Unlink_OfAFileNobodyHasOpen_FreesItAtOnce()
    {
        var f = _rz.File(_rz.Root, "f");
        _opens.Open(new NodeRef(f.Ino + 1000, f.Generation));
        _opens.Open(new NodeRef(f.Ino, f.Generation + 1)); // an earlier or later life of the inode keeps nothing
        Z.Names.Unlink(Caller.Host, _rz.Root, N("f"));
        Assert.False(Z.Orphans.IsOrphan(f.Ino));
        Assert.Equal(116, Errno(() => Z.Files.SetAttributes(Caller.Host, f, default)));
    }

    [Fact]
    public void RenameOverAnOpenFile_AndThePathUnlink_KeepOrphansToo()
    {
        var victim = _rz.File(_rz.Root, "victim");
        var other = _rz.File(_rz.Root, "other");
        _rz.File(_rz.Root, "new");
        _opens.Open(victim);
        _opens.Open(other);
        Z.Names.Rename(Caller.Host, _rz.Root, N("new"), _rz.Root, N("victim"), 0);
        Z.Names.Unlink("/other");
        Assert.True(Z.Orphans.IsOrphan(victim.Ino));
        Assert.True(Z.Orphans.IsOrphan(other.Ino));
        _opens.CloseAll();
        Assert.Equal(2, Z.Orphans.FreeUnheld());
    }

    [Fact]
    public void TheCommandLinesRm_OfAFileAGuestHasOpen_KeepsItAsAnOrphan_AsAGuestsUnlinkWould()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, "kept"u8);
        _opens.Open(f);
        Z.Dispose();

        CliAssert.Succeeds(StargateProcess.Run("rm", _rz.Path, "/f"));

        _rz.Reopen();
        Assert.Null(_rz.Lookup(_rz.Root, "f"));
        Assert.True(Z.Orphans.IsOrphan(f.Ino));
        Assert.Equal(0, Z.Orphans.FreeUnheld());
        new GuestOpenTable(Z).CloseAll();
        Assert.Equal(1, Z.Orphans.FreeUnheld());
    }

    [Fact]
    public void FreeOrphans_SkipsACorruptOrphan_AndStillFreesTheOthers()
    {
        var bad = _rz.File(_rz.Root, "bad");
        var good = _rz.File(_rz.Root, "good");
        _opens.Open(bad);
        _opens.Open(good);
        Z.Names.Unlink(Caller.Host, _rz.Root, N("bad"));
        Z.Names.Unlink(Caller.Host, _rz.Root, N("good"));
        ref byte reserved = ref Z.Memory.Span(Z.Geometry.InodeOffset(bad.Ino) + 100, 1)[0];
        reserved ^= 0xff;
        _opens.CloseAll();
        Assert.Equal(1, Z.Orphans.FreeUnheld());
        Assert.False(Z.Orphans.IsOrphan(good.Ino));
        reserved ^= 0xff;
        Assert.Equal(1, Z.Orphans.FreeUnheld());
    }

    [Fact]
    public void Orphans_SurviveAReopen_AndAreFoundAgain()
    {
        var f = _rz.File(_rz.Root, "f");
        _opens.Open(f);
        Z.Names.Unlink(Caller.Host, _rz.Root, N("f"));
        _rz.Reopen();
        Assert.True(Z.Orphans.IsOrphan(f.Ino));
        Assert.Equal(0, Z.Orphans.FreeUnheld());
        new GuestOpenTable(Z).CloseAll();
        Assert.Equal(1, Z.Orphans.FreeUnheld());
    }

    [Fact]
    public void Fsck_SaysAnOrphanIsLegal_AndRepairFreesItOnlyWhenNoPeerIsLive()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Files.Write(f.Ino, 0, new byte[50000]);
        _opens.Open(f);
        Z.Names.Unlink(Caller.Host, _rz.Root, N("f"));
        Z.Peers.Set(2, live: true, pid: 1);
        var report = _rz.CloseAndCheck();
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
        Assert.Contains(report.Notes, n => n.Contains($"inode {f.Ino}: orphan"));

        var repaired = ZoneChecker.Check(_rz.Path, repair: true);
        Assert.Empty(repaired.Repairs);
        Assert.Contains(repaired.Notes, n => n.Contains("slot(s) 2 live"));
        using (var z = Zone.Open(_rz.Path, ZoneAccess.ReadWrite))
        {
            Assert.True(z.Orphans.IsOrphan(f.Ino));
            z.Peers.Set(2, live: false);
        }

        repaired = ZoneChecker.Check(_rz.Path, repair: true);
        Assert.Contains(repaired.Repairs, r => r.Contains("freed 1"));
        var after = ZoneChecker.Check(_rz.Path, repair: false);
        Assert.True(after.Problems.Count == 0 && after.Notes.Count == 0, string.Join('\n', after.Lines()));
    }

    [Fact]
    public void Fsck_ReportsAnOrphanFlagOnALinkedFile_AndRepairClearsIt()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Change(() => Z.Inodes.ForWrite(f.Ino).Flags |= SgzAbi.InodeOrphan);
        var report = _rz.CloseAndCheck();
        Assert.Contains(report.Problems, p => p.Contains($"inode {f.Ino}: flagged orphan"));
        ZoneChecker.Check(_rz.Path, repair: true);
        Assert.Empty(ZoneChecker.Check(_rz.Path, repair: false).Problems);
    }
}
