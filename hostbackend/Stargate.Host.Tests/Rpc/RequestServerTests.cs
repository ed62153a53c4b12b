using System.Text;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// Each opcode through the rings as a guest sends it: the change, the reply body,
/// done published and the guest rung; and the errors a reply carries.
/// </summary>
public class RequestServerTests
{
    private const uint Estale = 116;
    private const uint Enosys = 38;

    [Fact]
    public void Create_MakesTheFileOwnedByTheCaller_RepliesWithItsInode_AndRingsTheGuest()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(3);
        var dir = bench.SharedDirectory("d");
        var reply = bench.Call(guest, Req.Create(dir, "f"));

        Assert.Equal(0u, reply.Status);
        var made = bench.Zone.Names.Stat("/d/f");
        Assert.Equal(made.Ino, reply.Ino);
        Assert.Equal(made.Generation, reply.Generation);
        Assert.Equal(Req.User, made.Uid);
        Assert.Equal(SgzAbi.SIfreg | 0x1a4u, made.Mode);
        Assert.Equal([3], bench.Rings);
    }

    [Fact]
    public void MkdirSymlinkAndLink_MakeWhatTheyName()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var sub = bench.Call(guest, Req.Mkdir(dir, "sub"));
        Assert.Equal(0u, sub.Status);
        Assert.True(bench.Zone.Names.Stat("/d/sub").IsDirectory);

        var link = bench.Call(guest, Req.Symlink(dir, "ln", "sub/../target"));
        Assert.Equal(0u, link.Status);
        Assert.Equal("sub/../target", Encoding.UTF8.GetString(bench.Zone.Names.ReadLink(link.Ino)));

        var file = bench.CreateFile(guest, "f", dir);
        var hard = bench.Call(guest, Req.Link(dir, "g", file));
        Assert.Equal(0u, hard.Status);
        Assert.Equal(file.Ino, hard.Ino);
        Assert.Equal(2u, bench.Zone.Names.Stat("/d/f").Nlink);
    }

    [Fact]
    public void Mknod_MakesFifosSocketsAndRootsDeviceNodes_WithTheirDeviceNumbers()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        Assert.Equal(0u, bench.Call(guest, Req.Make(SgzAbi.OpMknod, dir, "fifo", SgzAbi.SIfifo | 0x1a4)).Status);
        Assert.Equal(0u, bench.Call(guest, Req.Make(SgzAbi.OpMknod, dir, "sock", SgzAbi.SIfsock | 0x1a4)).Status);

        // Device nodes: uid 0 only (the guest kernel asked for CAP_MKNOD), rdev as new_encode_dev gives it.
        var chr = Req.Make(SgzAbi.OpMknod, dir, "chr", SgzAbi.SIfchr | 0x1a4);
        chr.Rdev = (1 << 8) | 3;
        Assert.Equal((uint)Errno.EPERM, bench.Call(guest, chr).Status);
        var rootChr = Req.Make(SgzAbi.OpMknod, dir, "chr", SgzAbi.SIfchr | 0x1a4, uid: 0, gid: 0);
        rootChr.Rdev = (1 << 8) | 3;
        Assert.Equal(0u, bench.Call(guest, rootChr).Status);
        var blk = Req.Make(SgzAbi.OpMknod, dir, "blk", SgzAbi.SIfblk | 0x180, uid: 0, gid: 0);
        blk.Rdev = 8 << 8;
        Assert.Equal(0u, bench.Call(guest, blk).Status);
        Assert.Equal((1UL << 8) | 3, bench.Zone.Names.Stat("/d/chr").Rdev);
        Assert.Equal(SgzAbi.SIfblk, bench.Zone.Names.Stat("/d/blk").Mode & SgzAbi.SIfmt);

        // A fifo with a device number, and a device number wider than dev_t: malformed.
        var withRdev = Req.Make(SgzAbi.OpMknod, dir, "fifo2", SgzAbi.SIfifo | 0x1a4);
        withRdev.Rdev = 5;
        Assert.Equal((uint)Errno.EINVAL, bench.Call(guest, withRdev).Status);
        var wide = Req.Make(SgzAbi.OpMknod, dir, "wide", SgzAbi.SIfchr | 0x1a4, uid: 0, gid: 0);
        wide.Rdev = 1UL << 32;
        Assert.Equal((uint)Errno.EINVAL, bench.Call(guest, wide).Status);
        Assert.Equal((uint)Errno.EINVAL, bench.Call(guest, Req.Make(SgzAbi.OpMknod, dir, "dir", SgzAbi.SIfdir | 0x1a4, uid: 0, gid: 0)).Status);
        Assert.Equal(4, bench.Zone.Names.ReadDirectory("/d").Count);
    }

    [Fact]
    public void UnlinkRmdirAndRename_ChangeTheNamespace()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        bench.CreateFile(guest, "a", dir);
        bench.CreateFile(guest, "b", dir);
        Assert.Equal(0u, bench.Call(guest, Req.Mkdir(dir, "sub")).Status);

        Assert.Equal(0u, bench.Call(guest, Req.Rename(dir, "a", dir, "c")).Status);
        Assert.Equal((uint)Errno.EEXIST, bench.Call(guest, Req.Rename(dir, "c", dir, "b", SgzAbi.RenameNoreplace)).Status);
        Assert.Equal(0u, bench.Call(guest, Req.Unlink(dir, "b")).Status);
        Assert.Equal(0u, bench.Call(guest, Req.Rmdir(dir, "sub")).Status);
        Assert.Equal(["c"], bench.Zone.Names.ReadDirectory("/d").Select(e => e.Name));
    }

    [Fact]
    public void NameRequests_ReplyWithTheDirectorysChangeCounter_OneAboveItsValueBefore()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var other = bench.SharedDirectory("e");
        ulong Change(NodeRef d) => bench.Zone.Names.StatInode(d.Ino).Change;

        ulong before = Change(dir);
        var made = bench.Call(guest, Req.Create(dir, "a"));
        Assert.Equal(before + 1, made.DirChange);
        Assert.Equal(Change(dir), made.DirChange);
        Assert.Equal(0UL, made.Dir2Change);

        // A rename between two directories gives both; within one, only the first.
        (ulong from, ulong to) = (Change(dir), Change(other));
        var moved = bench.Call(guest, Req.Rename(dir, "a", other, "b"));
        Assert.Equal((from + 1, to + 1), (moved.DirChange, moved.Dir2Change));
        var renamed = bench.Call(guest, Req.Rename(other, "b", other, "c"));
        Assert.Equal((Change(other), 0UL), (renamed.DirChange, renamed.Dir2Change));
        var unlinked = bench.Call(guest, Req.Unlink(other, "c"));
        Assert.Equal(Change(other), unlinked.DirChange);

        // A failed request, and one that changes no name, give none.
        ulong unchanged = Change(dir);
        var refused = bench.Call(guest, Req.Unlink(dir, "missing"));
        Assert.Equal(((uint)Errno.ENOENT, 0UL), (refused.Status, refused.DirChange));
        var chmod = bench.Call(guest, Req.Chmod(dir, 0x1ed, uid: 0));
        Assert.Equal((0u, 0UL), (chmod.Status, chmod.DirChange));
        Assert.Equal(unchanged + 1, Change(dir));
    }

    [Fact]
    public void SetattrAndAllocate_ReplyWithTheSize()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        var grown = bench.Call(guest, Req.SetSize(file, 10_000));
        Assert.Equal(0u, grown.Status);
        Assert.Equal(10_000ul, grown.Size);
        Assert.Equal(10_000ul, bench.Zone.Names.StatInode(file.Ino).Size);

        var allocated = bench.Call(guest, Req.Allocate(file, 0, 4096));
        Assert.Equal(0u, allocated.Status);
        Assert.True(allocated.Size >= 4096, $"allocated end {allocated.Size}");
        Assert.True(bench.Zone.Names.StatInode(file.Ino).Pages >= 1);

        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, 0x180)).Status);
        Assert.Equal(0x180u, bench.Zone.Names.StatInode(file.Ino).Permissions);
    }

    [Fact]
    public void Nop_IsAnsweredWithNothingChanged()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var reply = bench.Call(guest, Req.Nop());
        Assert.Equal(0u, reply.Status);
        Assert.Equal(0ul, reply.Ino);
    }

    public static TheoryData<string, uint> BadRequests => new()
    {
        { "unknown opcode", Enosys },
        { "empty name", (uint)Errno.EINVAL },
        { "name too long", (uint)Errno.ENAMETOOLONG },
        { "slash in name", (uint)Errno.EINVAL },
        { "NUL in name", (uint)Errno.EINVAL },
        { "dot-dot", (uint)Errno.EINVAL },
        { "directory mode for create", (uint)Errno.EINVAL },
        { "unknown mode bits", (uint)Errno.EINVAL },
        { "inode outside the table", Estale },
        { "inode zero", Estale },
        { "wrong generation", Estale },
        { "free inode", Estale },
        { "allocate over 1 GiB", (uint)Errno.EINVAL },
        { "allocate nothing", (uint)Errno.EINVAL },
        { "allocate wrapping", (uint)Errno.EFBIG },
        { "setattr unknown valid bits", (uint)Errno.EINVAL },
        { "size past the largest file", (uint)Errno.EFBIG },
        { "rename with both flags", (uint)Errno.EINVAL },
        { "rename unknown flag", (uint)Errno.EINVAL },
        { "lock unknown flag", (uint)Errno.EINVAL },
        { "lock type 3", (uint)Errno.EINVAL },
        { "getlk of unlock", (uint)Errno.EINVAL },
        { "symlink target too long", (uint)Errno.ENAMETOOLONG },
        { "symlink target with NUL", (uint)Errno.EINVAL },
        { "nop naming an inode", (uint)Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void BadField_GetsItsErrno_AndChangesNothing(string what, uint errno)
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        var file = bench.CreateFile(guest, "f", dir);
        var before = ZoneState.Capture(bench.Zone);
        var request = what switch
        {
            "unknown opcode" => Req.Base(99, dir, 0, 0),
            "empty name" => Req.Create(dir, ""),
            "name too long" => WithNameLength(Req.Create(dir, "x"), 256),
            "slash in name" => Req.Create(dir, "a/b"),
            "NUL in name" => Req.Create(dir, "a\0b"),
            "dot-dot" => Req.Create(dir, ".."),
            "directory mode for create" => Req.Create(dir, "g", SgzAbi.SIfdir | 0x1ed),
            "unknown mode bits" => Req.Create(dir, "g", SgzAbi.SIfreg | 0x10000),
            "inode outside the table" => Req.Create(new NodeRef(bench.Zone.Geometry.InodeCount, 0), "g"),
            "inode zero" => Req.Create(new NodeRef(0, 0), "g"),
            "wrong generation" => Req.Create(dir with { Generation = dir.Generation + 1 }, "g"),
            "free inode" => Req.Create(new NodeRef(bench.Zone.Geometry.InodeCount - 1, 0), "g"),
            "allocate over 1 GiB" => Req.Allocate(file, 0, (1UL << 30) + 1),
            "allocate nothing" => Req.Allocate(file, 0, 0),
            "allocate wrapping" => Req.Allocate(file, ulong.MaxValue - 10, 4096),
            "setattr unknown valid bits" => WithValid(Req.SetSize(file, 0), 0x80),
            "size past the largest file" => Req.SetSize(file, SgzAbi.FileSizeMax + 1),
            "rename with both flags" => Req.Rename(dir, "f", dir, "g", SgzAbi.RenameExchange | SgzAbi.RenameNoreplace),
            "rename unknown flag" => Req.Rename(dir, "f", dir, "g", 4),
            "lock unknown flag" => Req.Lock(file, SgzAbi.LockWrite, 0, 0, 1, 1, flags: 8),
            "lock type 3" => Req.Lock(file, 3, 0, 0, 1, 1),
            "getlk of unlock" => Req.Lock(file, SgzAbi.LockUnlock, 0, 0, 1, 1, opcode: SgzAbi.OpGetlk),
            "symlink target too long" => Req.Symlink(dir, "ln", new string('t', SgzAbi.SymlinkMax + 1)),
            "symlink target with NUL" => Req.Symlink(dir, "ln", "a\0b"),
            "nop naming an inode" => Req.Base(SgzAbi.OpNop, dir, 0, 0),
            _ => throw new ArgumentException(what),
        };

        var reply = bench.Call(guest, request, tag: 5);
        Assert.Equal(errno, reply.Status);
        Assert.Equal(0ul, reply.Ino);
        var after = ZoneState.Capture(bench.Zone);
        Assert.Equal(before, after);
    }

    [Fact]
    public void ZoneErrors_ComeBackAsTheirErrnos()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var file = bench.CreateFile(guest, "f", dir);
        Assert.Equal(0u, bench.Call(guest, Req.Mkdir(dir, "sub")).Status);
        bench.CreateFile(guest, "inner", new NodeRef(bench.Zone.Names.Stat("/d/sub").Ino, bench.Zone.Names.Stat("/d/sub").Generation));

        Assert.Equal((uint)Errno.EEXIST, bench.Call(guest, Req.Create(dir, "f")).Status);
        Assert.Equal((uint)Errno.ENOENT, bench.Call(guest, Req.Unlink(dir, "missing")).Status);
        Assert.Equal((uint)Errno.ENOTEMPTY, bench.Call(guest, Req.Rmdir(dir, "sub")).Status);
        Assert.Equal((uint)Errno.ENOTDIR, bench.Call(guest, Req.Create(file, "x")).Status);
        Assert.Equal((uint)Errno.EISDIR, bench.Call(guest, Req.Unlink(dir, "sub")).Status);
    }

    [Fact]
    public void Permissions_AreTheCallersWord_CheckedAgainstTheModeBits()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var root = bench.Root;

        // The root belongs to uid 0 with mode 0755: uid 1000 may not add names, uid 0 may.
        Assert.Equal((uint)Errno.EACCES, bench.Call(guest, Req.Create(root, "f")).Status);
        Assert.Equal(0u, bench.Call(guest, Req.Create(root, "f", uid: 0)).Status);
        var file = bench.Node(bench.Zone.Names.Stat("/f").Ino);
        Assert.Equal((uint)Errno.EPERM, bench.Call(guest, Req.Chmod(file, 0x1ff)).Status);
        Assert.Equal((uint)Errno.EACCES, bench.Call(guest, Req.SetSize(file, 1)).Status);
        Assert.Equal(0x1a4u, bench.Zone.Names.Stat("/f").Permissions);
        Assert.Equal(0ul, bench.Zone.Names.Stat("/f").Size);
    }

    [Fact]
    public void PendingRequestsOfOneGuest_AreTakenInSeqOrder_WhateverTheirTags()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");

        // seq 7 in tag 6 renames what seq 6 in tag 2 makes; seq 8 in tag 0 removes it.
        guest.NextSeq = 6;
        ulong create = guest.Send(2, Req.Create(dir, "a"));
        ulong rename = guest.Send(6, Req.Rename(dir, "a", dir, "b"));
        ulong unlink = guest.Send(0, Req.Unlink(dir, "b"));
        Assert.Equal(3, bench.Serve());

        Assert.Equal(0u, guest.Reply(2, create).Status);
        Assert.Equal(0u, guest.Reply(6, rename).Status);
        Assert.Equal(0u, guest.Reply(0, unlink).Status);
        Assert.Empty(bench.Zone.Names.ReadDirectory("/d"));
    }

    [Fact]
    public void AnsweredRequest_IsNotAppliedAgain_AndOnlyLivePeersAreServed()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        ulong seq = guest.Send(0, Req.Create(dir, "a"));
        Assert.Equal(1, bench.Serve());
        Assert.Equal(0, bench.Serve());
        Assert.Equal(0u, guest.Reply(0, seq).Status);

        using var stranger = new TestGuest(bench.Temp.Path, bench.Zone.Geometry, 5);
        ulong unserved = stranger.Send(0, Req.Create(dir, "b"));
        Assert.Equal(0, bench.Serve());
        Assert.False(stranger.IsDone(0, unserved));
        Assert.Single(bench.Zone.Names.ReadDirectory("/d"));
    }

    [Fact]
    public void SlotRewrittenWhileCopied_IsLeftForTheNextPass_ThenServedAsFinallyWritten()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        ulong first = guest.Send(0, Req.Create(dir, "torn"));
        ulong second = 0;
        bench.Server.AfterCopy = (slot, tag) =>
        {
            bench.Server.AfterCopy = null;
            second = guest.Send(tag, Req.Create(dir, "whole"));
        };

        Assert.Equal(0, bench.Serve());
        Assert.False(guest.IsDone(0, first));
        Assert.False(guest.IsDone(0, second));
        Assert.Equal(1, bench.Serve());
        Assert.Equal(0u, guest.Reply(0, second).Status);
        Assert.Equal(["whole"], bench.Zone.Names.ReadDirectory("/d").Select(e => e.Name));
    }

    [Fact]
    public void HostileGuest_WritingHugeSeqsAndGarbage_OnlyGetsErrors_AndTheOtherGuestIsServed()
    {
        using var bench = new RpcBench();
        var bad = bench.Guest(1);
        var good = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        bad.NextSeq = ulong.MaxValue - 3;
        var garbage = new byte[SgzAbi.RequestSize];
        new Random(7).NextBytes(garbage);
        for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
        {
            bad.SendBytes(tag, garbage);
            if (tag == 3)
            {
                bad.NextSeq = 1;
            }
        }

        ulong seq = good.Send(4, Req.Create(dir, "fine"));
        bench.Serve();
        Assert.Equal(0u, good.Reply(4, seq).Status);
        for (int tag = 0; tag < SgzAbi.RingSlots; tag++)
        {
            Assert.NotEqual(0u, bad.ReplyRef(tag).Status);
            Assert.Equal(bad.Request(tag).Seq, bad.ReplyRef(tag).Done);
        }
    }

    private static SgzRequest WithNameLength(SgzRequest r, ushort length)
    {
        r.NameLen = length;
        return r;
    }

    private static SgzRequest WithValid(SgzRequest r, uint valid)
    {
        r.Valid = valid;
        return r;
    }
}
