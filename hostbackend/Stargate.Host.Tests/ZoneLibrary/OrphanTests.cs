using Stargate.Host.Fsck;
using Stargate.Host.Zone;
using Stargate.Interop.Abi;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>Unlinked but open: the orphan rule for every way a last name goes, freeing at the last close, and fsck's view of orphans.</summary>
public sealed class OrphanTests : IDisposable
{
    private readonly RequestZone _rz = new();
    private readonly HashSet<ulong> _open = [];

    public OrphanTests() => Z.IsOpen = (ino, _) => _open.Contains(ino);

    private Zone.Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void Unlink_OfAnOpenFile_KeepsItAsAnOrphan_UntilItIsClosed()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Write(f.Ino, 0, "still here"u8);
        _open.Add(f.Ino);
        Z.Unlink(Caller.Host, _rz.Root, N("f"));

        Assert.Null(_rz.Lookup(_rz.Root, "f"));
        Assert.True(Z.IsOrphan(f.Ino));
        var s = Z.StatInode(f.Ino);
        Assert.Equal(0u, s.Nlink);
        Assert.Equal(f.Generation, s.Generation);
        var buffer = new byte[10];
        Z.Read(f.Ino, 0, buffer);
        Assert.Equal("still here"u8.ToArray(), buffer);
        Z.Allocate(Caller.Host, f, 0, 1 << 20);
        Assert.Equal(2, Errno(() => Z.Link(Caller.Host, _rz.Root, N("back"), f)));

        Assert.Equal(0, Z.FreeOrphans((ino, _) => _open.Contains(ino)));
        Assert.True(Z.IsOrphan(f.Ino));
        _open.Clear();
        Assert.Equal(1, Z.FreeOrphans((ino, _) => _open.Contains(ino)));
        Assert.False(Z.IsOrphan(f.Ino));
        Assert.Equal(116, Errno(() => Z.SetAttributes(Caller.Host, f, default)));
    }

    [Fact]
    public void Unlink_OfAFileNobodyHasOpen_FreesItAtOnce()
    {
        var f = _rz.File(_rz.Root, "f");
        _open.Add(f.Ino + 1000);
        Z.Unlink(Caller.Host, _rz.Root, N("f"));
        Assert.False(Z.IsOrphan(f.Ino));
        Assert.Equal(116, Errno(() => Z.SetAttributes(Caller.Host, f, default)));
    }

    [Fact]
    public void RenameOverAnOpenFile_AndThePathUnlink_KeepOrphansToo()
    {
        var victim = _rz.File(_rz.Root, "victim");
        var other = _rz.File(_rz.Root, "other");
        _rz.File(_rz.Root, "new");
        _open.UnionWith([victim.Ino, other.Ino]);
        Z.Rename(Caller.Host, _rz.Root, N("new"), _rz.Root, N("victim"), 0);
        Z.Unlink("/other");
        Assert.True(Z.IsOrphan(victim.Ino));
        Assert.True(Z.IsOrphan(other.Ino));
        Assert.Equal(2, Z.FreeOrphans((_, _) => false));
    }

    [Fact]
    public void FreeOrphans_SkipsACorruptOrphan_AndStillFreesTheOthers()
    {
        var bad = _rz.File(_rz.Root, "bad");
        var good = _rz.File(_rz.Root, "good");
        _open.UnionWith([bad.Ino, good.Ino]);
        Z.Unlink(Caller.Host, _rz.Root, N("bad"));
        Z.Unlink(Caller.Host, _rz.Root, N("good"));
        ref byte reserved = ref Z.Memory.Span(Z.Geometry.InodeOffset(bad.Ino) + 100, 1)[0];
        reserved ^= 0xff;
        Assert.Equal(1, Z.FreeOrphans((_, _) => false));
        Assert.False(Z.IsOrphan(good.Ino));
        reserved ^= 0xff;
        Assert.Equal(1, Z.FreeOrphans((_, _) => false));
    }

    [Fact]
    public void Orphans_SurviveAReopen_AndAreFoundAgain()
    {
        var f = _rz.File(_rz.Root, "f");
        _open.Add(f.Ino);
        Z.Unlink(Caller.Host, _rz.Root, N("f"));
        _rz.Reopen();
        Assert.True(Z.IsOrphan(f.Ino));
        Assert.Equal(1, Z.FreeOrphans((_, _) => false));
    }

    [Fact]
    public void Fsck_SaysAnOrphanIsLegal_AndRepairFreesItOnlyWhenNoPeerIsLive()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Write(f.Ino, 0, new byte[50000]);
        _open.Add(f.Ino);
        Z.Unlink(Caller.Host, _rz.Root, N("f"));
        Z.SetPeer(2, live: true, pid: 1);
        var report = _rz.CloseAndCheck();
        Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
        Assert.Contains(report.Notes, n => n.Contains($"inode {f.Ino}: orphan"));

        var repaired = ZoneChecker.Check(_rz.Path, repair: true);
        Assert.Empty(repaired.Repairs);
        Assert.Contains(repaired.Notes, n => n.Contains("slot(s) 2 live"));
        using (var z = Zone.Zone.Open(_rz.Path, ZoneAccess.ReadWrite))
        {
            Assert.True(z.IsOrphan(f.Ino));
            z.SetPeer(2, live: false);
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
        Z.Change(() => Z.InodeForWrite(f.Ino).Flags |= SgzAbi.InodeOrphan);
        var report = _rz.CloseAndCheck();
        Assert.Contains(report.Problems, p => p.Contains($"inode {f.Ino}: flagged orphan"));
        ZoneChecker.Check(_rz.Path, repair: true);
        Assert.Empty(ZoneChecker.Check(_rz.Path, repair: false).Problems);
    }
}
