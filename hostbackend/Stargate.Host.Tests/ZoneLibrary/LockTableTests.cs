using Stargate.Host.Fsck;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using static Stargate.Host.Tests.ZoneLibrary.RequestZone;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>The lock table: POSIX split, merge and conversion, flock conversion, conflicts, stale records, a full table, dead peers.</summary>
public sealed class LockTableTests : IDisposable
{
    private const int Posix = SgzAbi.LockKindPosix;
    private const int Flock = SgzAbi.LockKindFlock;
    private const int Read = SgzAbi.LockRead;
    private const int Write = SgzAbi.LockWrite;
    private const int Unlock = SgzAbi.LockUnlock;
    private static readonly LockHolder A = new(1, 10, 100);
    private static readonly LockHolder B = new(2, 10, 200);
    private readonly RequestZone _rz = new();
    private readonly NodeRef _f;

    public LockTableTests() => _f = _rz.File(_rz.Root, "f");

    private Zone Z => _rz.Z;

    public void Dispose() => _rz.Dispose();

    [Fact]
    public void Posix_OverlappingWriteOfAnotherHolder_IsRefusedWithTheConflict_AndDisjointRangesAreGranted()
    {
        Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Posix, Write, 0, 99)));
        var conflict = new LockConflict(Write, 100, 0, 99);
        Assert.Equal(conflict, Z.Locks.SetLock(B, _f, new LockRange(Posix, Read, 50, 60)));
        Assert.Equal(conflict, Z.Locks.TestLock(B, _f, new LockRange(Posix, Read, 99, SgzAbi.LockEof)));
        Assert.Null(Z.Locks.SetLock(B, _f, new LockRange(Posix, Read, 100, SgzAbi.LockEof)));
        Assert.Null(Z.Locks.TestLock(A, _f, new LockRange(Posix, Write, 0, 99)));
        Assert.Equal(new LockConflict(Read, 200, 100, SgzAbi.LockEof), Z.Locks.TestLock(A, _f, new LockRange(Posix, Write, 0, 100)));
    }

    [Fact]
    public void Posix_ReadLocksOfTwoHolders_Coexist_AndSameOwnerIdOnAnotherSlotIsAnotherHolder()
    {
        Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Posix, Read, 0, 10)));
        Assert.Null(Z.Locks.SetLock(B, _f, new LockRange(Posix, Read, 5, 20)));
        Assert.NotNull(Z.Locks.SetLock(B, _f, new LockRange(Posix, Write, 0, 0)));
    }

    [Fact]
    public void Posix_UnlockInTheMiddle_SplitsTheLockInTwo()
    {
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Write, 0, 99));
        Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Posix, Unlock, 40, 59)));
        Assert.Null(Z.Locks.TestLock(B, _f, new LockRange(Posix, Write, 40, 59)));
        Assert.Equal(new LockConflict(Write, 100, 0, 39), Z.Locks.TestLock(B, _f, new LockRange(Posix, Read, 30, 45)));
        Assert.Equal(new LockConflict(Write, 100, 60, 99), Z.Locks.TestLock(B, _f, new LockRange(Posix, Read, 55, 70)));
        Assert.Equal(2, Z.Locks.DropLocks(A.Slot, A.Owner));
    }

    [Fact]
    public void Posix_TouchingLocksOfOneType_MergeIntoOne()
    {
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Read, 0, 9));
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Read, 20, 29));
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Read, 10, 19));
        Assert.Equal(new LockConflict(Read, 100, 0, 29), Z.Locks.TestLock(B, _f, new LockRange(Posix, Write, 15, 15)));
        Assert.Equal(1, Z.Locks.DropLocks(A.Slot));
    }

    [Fact]
    public void Posix_AWriteInsideARead_ConvertsThatPartOnly()
    {
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Read, 0, 99));
        Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Posix, Write, 50, 60)));
        Assert.Equal(new LockConflict(Write, 100, 50, 60), Z.Locks.TestLock(B, _f, new LockRange(Posix, Read, 55, 55)));
        Assert.Null(Z.Locks.TestLock(B, _f, new LockRange(Posix, Read, 0, 49)));
        Assert.Equal(new LockConflict(Read, 100, 61, 99), Z.Locks.TestLock(B, _f, new LockRange(Posix, Write, 70, 70)));
        Assert.Equal(3, Z.Locks.DropLocks(A.Slot));
    }

    [Fact]
    public void Flock_SharedLocksCoexist_ConversionReplacesTheOwnersLock_AndKindsDoNotConflict()
    {
        var c = new LockHolder(3, 7, 300);
        Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Flock, Read, 0, 0)));
        Assert.Null(Z.Locks.SetLock(B, _f, new LockRange(Flock, Read, 0, 0)));
        Assert.NotNull(Z.Locks.SetLock(c, _f, new LockRange(Flock, Write, 0, 0)));
        Assert.Equal(Read, Z.Locks.SetLock(A, _f, new LockRange(Flock, Write, 0, 0))!.Value.Type);
        Assert.Null(Z.Locks.SetLock(B, _f, new LockRange(Flock, Unlock, 0, 0)));
        Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Flock, Write, 0, 0)));
        Assert.Equal(new LockConflict(Write, 100, 0, SgzAbi.LockEof), Z.Locks.TestLock(c, _f, new LockRange(Flock, Read, 0, 0)));
        Assert.Null(Z.Locks.SetLock(c, _f, new LockRange(Posix, Write, 0, SgzAbi.LockEof)));
        Assert.Equal(1, Z.Locks.DropLocks(A.Slot));
        Assert.Equal(1, Z.Locks.DropLocks(c.Slot));
    }

    [Fact]
    public void Locks_OfAnotherGeneration_AreStale_AndDroppedWhenMet()
    {
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Write, 0, 99));
        Z.Change(() =>
        {
            for (uint i = 0; i < Z.Geometry.LockSlots; i++)
            {
                ulong at = Z.Geometry.LockTable.Offset + (i * SgzAbi.LockSize);
                if (Z.Memory.Ref<SgzLock>(at).Word != 0)
                {
                    Z.Writer.BytesForWrite(at + 44, 4)[0]++; // the generation
                }
            }
        });
        Assert.Null(Z.Locks.TestLock(B, _f, new LockRange(Posix, Write, 0, 99)));
        Assert.Null(Z.Locks.SetLock(B, _f, new LockRange(Posix, Write, 0, 99)));
        Assert.Equal(0, Z.Locks.DropLocks(A.Slot));
        Assert.Equal(1, Z.Locks.DropLocks(B.Slot));
    }

    [Fact]
    public void Unlink_OfALockedFile_DropsItsRecords()
    {
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Write, 0, 99));
        Z.Names.Unlink(Caller.Host, _rz.Root, N("f"));
        Assert.Equal(0, Z.Locks.DropLocks(A.Slot));
    }

    [Fact]
    public void AFullTable_RefusesANewLockOrASplit_WithENOLCK_AndChangesNothing()
    {
        uint slots = Z.Geometry.LockSlots;
        for (ulong i = 0; i < slots; i++)
        {
            Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Posix, i % 2 == 0 ? Read : Write, i * 10, (i * 10) + 5)));
        }

        Assert.Equal(37, Errno(() => Z.Locks.SetLock(B, _f, new LockRange(Posix, Read, 1_000_000, 1_000_001))));
        Assert.Equal(37, Errno(() => Z.Locks.SetLock(A, _f, new LockRange(Posix, Unlock, 2, 3))));
        Assert.Equal(new LockConflict(Read, 100, 0, 5), Z.Locks.TestLock(B, _f, new LockRange(Posix, Write, 2, 3)));
        Assert.Null(Z.Locks.SetLock(A, _f, new LockRange(Posix, Unlock, 0, 5)));
        Assert.Null(Z.Locks.SetLock(B, _f, new LockRange(Posix, Read, 1_000_000, 1_000_001)));
        Assert.Equal((int)slots - 1, Z.Locks.DropLocks(A.Slot));
        Assert.Equal(1, Z.Locks.DropLocks(B.Slot));
    }

    [Fact]
    public void Locks_OutliveAReopen_AndDropLocksOfOneOwnerLeavesTheOthers()
    {
        var a2 = A with { Owner = 11 };
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Write, 0, 9));
        Z.Locks.SetLock(a2, _f, new LockRange(Posix, Write, 10, 19));
        _rz.Reopen();
        var f = _rz.Ref(_f.Ino);
        Assert.NotNull(Z.Locks.TestLock(B, f, new LockRange(Posix, Read, 0, 0)));
        Assert.Equal(1, Z.Locks.DropLocks(A.Slot, A.Owner));
        Assert.Null(Z.Locks.TestLock(B, f, new LockRange(Posix, Read, 0, 0)));
        Assert.NotNull(Z.Locks.TestLock(B, f, new LockRange(Posix, Read, 10, 10)));
        Assert.Equal(1, Z.Locks.DropLocks(A.Slot));
    }

    [Fact]
    public void BadRequests_FailWithEINVALOrESTALE()
    {
        Assert.Equal(22, Errno(() => Z.Locks.SetLock(A, _f, new LockRange(3, Read, 0, 0))));
        Assert.Equal(22, Errno(() => Z.Locks.SetLock(A, _f, new LockRange(Posix, 5, 0, 0))));
        Assert.Equal(22, Errno(() => Z.Locks.SetLock(A, _f, new LockRange(Posix, Read, 10, 9))));
        Assert.Equal(22, Errno(() => Z.Locks.SetLock(A with { Slot = -1 }, _f, new LockRange(Posix, Read, 0, 0))));
        Assert.Equal(116, Errno(() => Z.Locks.SetLock(A, _f with { Generation = _f.Generation + 1 }, new LockRange(Posix, Read, 0, 0))));
    }

    [Fact]
    public void ReleaseInodeLocks_ClearsOnlyTheDeadSlotsWords_AndClearPeerAreaZeroesOnlyItsArea()
    {
        var g = _rz.File(_rz.Root, "g");
        ref ulong fWord = ref Z.Memory.Ref<SgzHint>(Z.Geometry.HintOffset(_f.Ino)).Lock;
        ref ulong gWord = ref Z.Memory.Ref<SgzHint>(Z.Geometry.HintOffset(g.Ino)).Lock;
        fWord = 3 | SgzAbi.IlockWaiters;
        gWord = 4;
        Assert.Equal(1, Z.LockWords.ReleaseAll(2));
        Assert.Equal(0UL, fWord);
        Assert.Equal(4UL, gWord);
        gWord = 0;

        ulong area = Z.Geometry.RingAreaOffset(2);
        Z.Memory.Span(area, Z.Geometry.RingBytes).Fill(0x5a);
        Z.Memory.Span(area + Z.Geometry.RingBytes, 8).Fill(0x5a);
        Z.Peers.ClearArea(2);
        Assert.False(Z.Memory.Span(area, Z.Geometry.RingBytes).ContainsAnyExcept((byte)0));
        Assert.All(Z.Memory.Span(area + Z.Geometry.RingBytes, 8).ToArray(), b => Assert.Equal(0x5a, b));
        Z.Peers.ClearArea(3);
    }

    [Fact]
    public void Fsck_ReportsLockRecordsOfFreeInodesOrOtherGenerations_AndRepairClearsThem()
    {
        Z.Locks.SetLock(A, _f, new LockRange(Posix, Write, 0, 9));
        Z.Locks.SetLock(B, _f, new LockRange(Posix, Write, 10, 19));
        var records = Enumerable.Range(0, (int)Z.Geometry.LockSlots)
            .Select(i => Z.Geometry.LockTable.Offset + ((ulong)i * SgzAbi.LockSize))
            .Where(at => Z.Memory.Ref<SgzLock>(at).Word != 0).ToList();
        Z.Memory.Ref<SgzLock>(records[0]).Ino = _f.Ino + 1;
        Z.Memory.Ref<SgzLock>(records[1]).Generation++;
        var report = _rz.CloseAndCheck();
        Assert.Equal(2, report.Problems.Count(p => p.StartsWith("lock table:", StringComparison.Ordinal)));
        ZoneChecker.Check(_rz.Path, repair: true);
        Assert.Empty(ZoneChecker.Check(_rz.Path, repair: false).Problems);
    }
}
