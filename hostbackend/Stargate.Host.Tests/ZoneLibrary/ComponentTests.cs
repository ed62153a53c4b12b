using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// The invariants each zone component owns, tested on the component itself (the other
/// tests reach them only through the public operations): the writer's change, the
/// allocator's counts and deferred frees, the inode table's generations, the open tables,
/// the inode lock words, the peer table's bounds and the permission rules.
/// </summary>
public sealed class ComponentTests : IDisposable
{
    private readonly RequestZone _rz = new();

    private Zone Z => _rz.Z;

    private ulong FreePages => Z.Superblock.FreePages;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void Writer_RefusesAStructureWriteOutsideAChange()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Z.Writer.BytesForWrite(Z.Geometry.InodeOffset(SgzAbi.RootIno), 8));
        Assert.Contains("outside a change", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => Z.Writer.SuperblockForWrite());
    }

    [Fact]
    public void Writer_AChangeThatThrows_IsUndone_EvenWhatItsNestedChangesWrote_AndParticipantsAreTold()
    {
        var f = _rz.File(_rz.Root, "f");
        var participant = new CountingParticipant();
        Z.Writer.Enlist(participant);
        ulong inodesBefore = Z.Superblock.FreeInodes;
        var before = Z.Inodes.Load(f.Ino);
        uint seqBefore = Z.Inodes.Live(f.Ino).Seq;

        Assert.Throws<InvalidTimeZoneException>(() => Z.Change(() =>
        {
            Z.Inodes.ForWrite(f.Ino).Uid = 4242;
            Z.Writer.SuperblockForWrite().FreeInodes = 7;
            Z.Writer.Change(() => Z.Inodes.ForWrite(SgzAbi.RootIno).Gid = 4343); // joins the outer change
            throw new InvalidTimeZoneException("the body fails");
        }));

        var after = Z.Inodes.Load(f.Ino);
        Assert.Equal(before.Uid, after.Uid);
        Assert.Equal(before.Crc, after.Crc);
        Assert.NotEqual(4343u, Z.Inodes.Load(SgzAbi.RootIno).Gid);
        Assert.Equal(inodesBefore, Z.Superblock.FreeInodes);
        uint seqAfter = Z.Inodes.Live(f.Ino).Seq;
        Assert.True(seqAfter % 2 == 0 && seqAfter > seqBefore, $"seq {seqBefore} -> {seqAfter}: a reader that copied mid-change must retry");
        Assert.Equal((0, 1), (participant.Commits, participant.Abandons));
    }

    [Fact]
    public void Writer_OnCommit_SealsEveryInodeItWrote_WithAnEvenSeq_ANewCrcAndOneMoreChange()
    {
        var f = _rz.File(_rz.Root, "f");
        var participant = new CountingParticipant();
        Z.Writer.Enlist(participant);
        uint seq = Z.Inodes.Live(f.Ino).Seq;
        ulong changes = Z.Inodes.Live(f.Ino).Change;

        Z.Change(() =>
        {
            Z.Inodes.ForWrite(f.Ino).Uid = 4242;
            Assert.Equal(1u, Z.Inodes.Live(f.Ino).Seq & 1); // held odd while the change runs
            Z.Inodes.ForWrite(f.Ino).Gid = 4343;           // a second write takes nothing again
        });

        ref var live = ref Z.Inodes.Live(f.Ino);
        Assert.Equal(seq + 2, live.Seq);
        Assert.Equal(changes + 1, live.Change);
        Assert.Equal(InodeTable.Crc(live), live.Crc);
        Assert.Equal((4242u, 4343u), (Z.Inodes.Load(f.Ino).Uid, Z.Inodes.Load(f.Ino).Gid));
        Assert.Equal((1, 0), (participant.Commits, participant.Abandons));
    }

    [Fact]
    public void Writer_OfAReadOnlyZone_RefusesEveryChange()
    {
        Z.Dispose();
        using var ro = Zone.Open(_rz.Path, ZoneAccess.ReadOnly);
        Assert.Equal(ZoneError.ReadOnly, Fails(() => ro.Change(() => { })));
        _rz.Reopen();
    }

    [Fact]
    public void Allocator_KeepsBitmapChunkUsageFreePagesAndGroupOwnerInStep()
    {
        ulong free = FreePages;
        ulong chunk = Z.Change(() => Z.Allocator.AllocateChunk(3, Allocator.NoChunk, PageKind.Data));
        ulong group = chunk / Z.Geometry.GroupChunks;

        Assert.Equal((int)SgzAbi.PagesPerChunk, Z.Allocator.ChunkUsage[(int)chunk]);
        Assert.Equal(free - SgzAbi.PagesPerChunk, FreePages);
        Assert.True(Z.Allocator.IsPageUsed(chunk * SgzAbi.PagesPerChunk) && Z.Allocator.IsPageUsed(((chunk + 1) * SgzAbi.PagesPerChunk) - 1));
        Assert.Equal(4, (int)Z.Allocator.GroupOwners[(int)group]); // slot 3 + 1

        Z.Change(() => Z.Allocator.FreePages(chunk * SgzAbi.PagesPerChunk, SgzAbi.PagesPerChunk));

        Assert.Equal(0, (int)Z.Allocator.ChunkUsage[(int)chunk]);
        Assert.Equal(free, FreePages);
        Assert.False(Z.Allocator.IsPageUsed(chunk * SgzAbi.PagesPerChunk));
        Assert.Equal(0, (int)Z.Allocator.GroupOwners[(int)group]); // an empty group belongs to nobody
    }

    [Fact]
    public void Allocator_PagesFreedInAChange_StayTakenUntilItEnds_ThenReadAsZeros()
    {
        ulong page = Z.Change(() => Z.Allocator.AllocatePage(1, Allocator.NoChunk, PageKind.Data));
        ulong at = Z.Geometry.PageOffset(page);
        Z.Memory.Span(at, ZoneGeometry.PageSize).Fill(0xab);

        ulong other = Z.Change(() =>
        {
            Z.Allocator.FreePages(page, 1);
            Assert.True(Z.Allocator.IsPageUsed(page));
            return Z.Allocator.AllocatePage(1, page, PageKind.Data); // asks for that very page
        });

        Assert.NotEqual(page, other); // not handed out again in the change that freed it
        Assert.False(Z.Allocator.IsPageUsed(page));
        Assert.False(Z.Memory.Span(at, ZoneGeometry.PageSize).ContainsAnyExcept((byte)0));
        Z.Change(() => Z.Allocator.FreePages(other, 1));
    }

    [Fact]
    public void Allocator_ADoubleFree_IsCorrupt_AndTheChangeIsUndone()
    {
        ulong page = Z.Change(() => Z.Allocator.AllocatePage(1, Allocator.NoChunk, PageKind.Data));
        Z.Change(() => Z.Allocator.FreePages(page, 1));
        ulong free = FreePages;

        var e = Assert.Throws<ZoneCorruptException>(() => Z.Change(() => Z.Allocator.FreePages(page, 1)));

        Assert.Contains("double free", e.Message, StringComparison.Ordinal);
        Assert.Equal(free, FreePages);
    }

    [Fact]
    public void InodeTable_AFreedInodeKeepsItsGeneration_AndItsNextLifeGetsANewOne()
    {
        ulong freeInodes = Z.Superblock.FreeInodes;
        ulong ino = Z.Change(() => Z.Inodes.Allocate(SgzAbi.SIfreg | 0x1a4, 1, 2, 0));
        uint generation = Z.Inodes.Load(ino).Generation;
        Assert.True(Z.Inodes.IsUsed(ino));
        Assert.Equal(freeInodes - 1, Z.Superblock.FreeInodes);

        Z.Change(() => Z.Inodes.Release(ino));

        Assert.False(Z.Inodes.IsUsed(ino));
        Assert.Equal(freeInodes, Z.Superblock.FreeInodes);
        Assert.Equal(generation, Z.Inodes.Load(ino).Generation);
        Assert.Equal(ZoneError.Stale, Fails(() => Z.Inodes.LoadNode(new NodeRef(ino, generation))));
        Z.Change(() => { Z.Writer.SuperblockForWrite().InodeHint = ino; });
        Assert.Equal(ino, Z.Change(() => Z.Inodes.Allocate(SgzAbi.SIfreg | 0x1a4, 1, 2, 0)));
        Assert.Equal(generation + 1, Z.Inodes.Load(ino).Generation);
        Assert.Equal(ZoneError.Stale, Fails(() => Z.Inodes.LoadNode(new NodeRef(ino, generation))));
        Z.Change(() => Z.Inodes.Release(ino));
    }

    [Fact]
    public void InodeTable_ARecordWhoseCrcFails_IsCorrupt_NamingTheInode()
    {
        var f = _rz.File(_rz.Root, "f");
        Z.Inodes.Live(f.Ino).Uid ^= 1;
        var e = Assert.Throws<ZoneCorruptException>(() => Z.Inodes.Load(f.Ino));
        Assert.Contains($"inode {f.Ino}", e.Message, StringComparison.Ordinal);
        Z.Inodes.Live(f.Ino).Uid ^= 1;
    }

    [Fact]
    public void OpenTables_CountOnlyALiveGuestsEntries_OfTheExactGeneration_WithACount()
    {
        var f = _rz.File(_rz.Root, "f");
        var opens = new OpenTables(Z.Areas, Z.Peers);
        var guest = new GuestOpenTable(Z, slot: 3);
        guest.Open(new NodeRef(f.Ino, f.Generation + 1));
        Assert.False(opens.IsOpenAnywhere(f.Ino, f.Generation));

        guest.Open(f);
        Assert.True(opens.IsOpenAnywhere(f.Ino, f.Generation));

        Z.Peers.Set(3, live: false); // a dead guest's table keeps nothing
        Assert.False(opens.IsOpenAnywhere(f.Ino, f.Generation));
        Z.Peers.Set(3, live: true);
        guest.CloseAll();
        Assert.False(opens.IsOpenAnywhere(f.Ino, f.Generation));
    }

    [Fact]
    public void InodeLockWords_TheHostsReleaseSaysWhetherAGuestWaited_AndADeadPeersWordsAreCleared()
    {
        var f = _rz.File(_rz.Root, "f");
        var g = _rz.File(_rz.Root, "g");
        ref ulong word = ref Z.Inodes.Hint(f.Ino).Lock;
        Z.LockWords.TakeAsHost(f.Ino);
        Assert.Equal((ulong)SgzAbi.HostPeerSlot + 1, word);
        Assert.False(Z.LockWords.ReleaseAsHost(f.Ino));
        Z.LockWords.TakeAsHost(f.Ino);
        word |= SgzAbi.IlockWaiters; // a guest found it held and waits
        Assert.True(Z.LockWords.ReleaseAsHost(f.Ino));
        Assert.Equal(0UL, word);

        word = 5 + 1;
        Z.Inodes.Hint(g.Ino).Lock = (6 + 1) | SgzAbi.IlockWaiters;
        Assert.Equal(1, Z.LockWords.ReleaseAll(5));
        Assert.Equal(0UL, word);
        Assert.Equal((6 + 1) | SgzAbi.IlockWaiters, Z.Inodes.Hint(g.Ino).Lock);
        Assert.Equal(1, Z.LockWords.ReleaseAll(6));
    }

    [Fact]
    public void PeerTable_RefusesASlotOutsideTheTable_AndClearStaleKeepsTheHost()
    {
        int max = (int)Z.Geometry.MaxPeers;
        Assert.Equal(ZoneError.InvalidArgument, Fails(() => Z.Peers.Set(max, live: true)));
        Assert.Equal(ZoneError.InvalidArgument, Fails(() => Z.Peers.Set(-1, live: true)));
        Assert.Equal(ZoneError.InvalidArgument, Fails(() => Z.Peers.ClearArea(max)));

        Z.Peers.Set(SgzAbi.HostPeerSlot, live: true, pid: 1);
        Z.Peers.Set(1, live: true, pid: 2);
        Z.Peers.Set(max - 1, live: true, pid: 3);
        Assert.Equal(new[] { 1, max - 1 }, Z.Peers.LiveGuests());
        Assert.Equal(2, Z.Peers.ClearStale());
        Assert.Empty(Z.Peers.LiveGuests());
        Assert.Equal((uint)SgzAbi.PeerLive, Z.Peers.Record(SgzAbi.HostPeerSlot).State);
        Z.Peers.Set(SgzAbi.HostPeerSlot, live: false);
    }

    [Theory]
    [InlineData(1000u, 100u, 0x1c0u, Permissions.MayWrite, true)]   // owner rwx
    [InlineData(1001u, 100u, 0x1c0u, Permissions.MayWrite, false)]  // group: no bits
    [InlineData(1001u, 100u, 0x1f8u, Permissions.MayWrite, true)]   // group rwx
    [InlineData(1001u, 101u, 0x1f8u, Permissions.MayRead, false)]   // other: no bits
    [InlineData(1001u, 101u, 0x1fcu, Permissions.MayRead, true)]    // other r
    [InlineData(1000u, 100u, 0x1fcu, Permissions.MayWrite | Permissions.MayExec, true)]
    [InlineData(1000u, 100u, 0x17cu, Permissions.MayWrite | Permissions.MayExec, false)] // owner r-x: the owner class wins over other's bits
    [InlineData(0u, 0u, 0u, Permissions.MayWrite | Permissions.MayExec, true)]           // uid 0 passes
    public void Permissions_UseTheOwnerGroupOrOtherBits_AndUid0PassesEveryCheck(uint uid, uint gid, uint mode, uint want, bool may)
    {
        var inode = new SgzInode { Mode = SgzAbi.SIfreg | mode, Uid = 1000, Gid = 100 };
        Assert.Equal(may, Permissions.May(new Caller(uid, gid, 1), inode, want));
    }

    [Fact]
    public void Permissions_InAStickyDirectory_OnlyTheOwnerOfTheEntryOrOfTheDirectoryRemoves()
    {
        var dir = new SgzInode { Mode = SgzAbi.SIfdir | 0x3ff, Uid = 1, Gid = 100 };
        var victim = new SgzInode { Mode = SgzAbi.SIfreg | 0x1b6, Uid = 2, Gid = 100 };
        Permissions.RequireMayRemove(new Caller(2, 100, 1), 5, dir, victim, "x"); // the entry's owner
        Permissions.RequireMayRemove(new Caller(1, 100, 1), 5, dir, victim, "x"); // the directory's owner
        Permissions.RequireMayRemove(Caller.Host, 5, dir, victim, "x");
        Assert.Equal(ZoneError.NotPermitted, Fails(() => Permissions.RequireMayRemove(new Caller(3, 100, 1), 5, dir, victim, "x")));
    }

    /// <summary>Counts what the writer tells an enlisted component.</summary>
    private sealed class CountingParticipant : IChangeParticipant
    {
        public int Commits { get; private set; }

        public int Abandons { get; private set; }

        public void BeforeCommit() => Commits++;

        public void AfterAbandon() => Abandons++;
    }
}
