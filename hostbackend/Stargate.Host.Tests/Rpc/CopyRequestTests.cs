using Stargate.Host.Rpc;
using Stargate.Host.Tests.Support;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Rpc;

/// <summary>SGZ_OP_COPY through the request ring: the reply, the field checks of docs/requests.md, the export policy and the lock word.</summary>
public sealed class CopyRequestTests
{
    private const ulong MiB = 1UL << 20;
    private const int ESTALE = 116;

    [Fact]
    public void Copy_RepliesWithTheBytesCopied_AndTheTargetHasThem()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var src = bench.CreateFile(guest, "src", dir);
        var dst = bench.CreateFile(guest, "dst", dir);
        var data = new byte[3 * MiB];
        new Random(1).NextBytes(data);
        bench.Zone.Files.Write(src.Ino, 0, data);

        var reply = bench.Call(guest, Copy(src, 0, dst, 0, SgzAbi.CopyMax));

        Assert.Equal(0u, reply.Status);
        Assert.Equal(3 * MiB, reply.Size);
        var copied = new byte[3 * MiB];
        Assert.Equal(copied.Length, bench.Zone.Files.Read(dst.Ino, 0, copied));
        Assert.Equal(data, copied);
        bench.AssertFsckClean();
    }

    [Theory]
    [InlineData("length 0", Errno.EINVAL)]
    [InlineData("length over SGZ_COPY_MAX", Errno.EINVAL)]
    [InlineData("unknown flag", Errno.EINVAL)]
    [InlineData("source range past the largest file", Errno.EFBIG)]
    [InlineData("target range past the largest file", Errno.EFBIG)]
    [InlineData("source inode 0", ESTALE)]
    [InlineData("target inode outside the table", ESTALE)]
    [InlineData("target of another generation", ESTALE)]
    [InlineData("overlap in one file", Errno.EINVAL)]
    [InlineData("more groups than allowed", Errno.EINVAL)]
    public void BadField_GetsItsErrno_AndChangesNothing(string what, int errno)
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        var src = bench.CreateFile(guest, "src", dir);
        var dst = bench.CreateFile(guest, "dst", dir);
        bench.Zone.Files.Write(src.Ino, 0, new byte[8192]);
        var before = ZoneState.Capture(bench.Zone);
        var request = what switch
        {
            "length 0" => Copy(src, 0, dst, 0, 0),
            "length over SGZ_COPY_MAX" => Copy(src, 0, dst, 0, SgzAbi.CopyMax + 1),
            "unknown flag" => Copy(src, 0, dst, 0, 10, flags: 2),
            "source range past the largest file" => Copy(src, SgzAbi.FileSizeMax - 5, dst, 0, 10),
            "target range past the largest file" => Copy(src, 0, dst, SgzAbi.FileSizeMax - 5, 10),
            "source inode 0" => Copy(default, 0, dst, 0, 10),
            "target inode outside the table" => Copy(src, 0, new NodeRef(bench.Zone.Geometry.InodeCount, 1), 0, 10),
            "target of another generation" => Copy(src, 0, dst with { Generation = dst.Generation + 1 }, 0, 10),
            "overlap in one file" => Copy(src, 0, src, 4096, 8192),
            "more groups than allowed" => Copy(src, 0, dst, 0, 10) with { Ngroups = SgzAbi.ReqGroupsMax + 1 },
            _ => throw new ArgumentException(what),
        };

        var reply = bench.Call(guest, request, tag: 5);

        Assert.Equal((uint)errno, reply.Status);
        Assert.Equal(0UL, reply.Size);
        Assert.Equal(before, ZoneState.Capture(bench.Zone));
    }

    [Fact]
    public void Copy_FromAReadOnlyGuest_IsRefusedWithEROFS()
    {
        using var bench = new RpcBench();
        var writer = bench.Guest(1);
        var reader = bench.Guest(2);
        bench.Policies[2] = new ExportPolicy(ReadOnly: true, RootSquash: false);
        var src = bench.CreateFile(writer, "src", bench.SharedDirectory("d"));
        var dst = bench.CreateFile(writer, "dst", bench.SharedDirectory("e"));
        bench.Zone.Files.Write(src.Ino, 0, new byte[10]);

        Assert.Equal((uint)Errno.EROFS, bench.Call(reader, Copy(src, 0, dst, 0, 10)).Status);
        Assert.Equal(0UL, bench.Zone.Names.StatInode(dst.Ino).Size);
    }

    [Fact]
    public void Copy_ByASquashedRoot_DropsSetuid_EvenWithCapFsetid()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        bench.Policies[1] = new ExportPolicy(ReadOnly: false, RootSquash: true);
        ulong src = bench.Zone.Names.CreateFile("/src", 0x1a4);
        bench.Zone.Files.Write(src, 0, new byte[10]);
        ulong dst = bench.Zone.Names.CreateFile("/dst", 0x9ff);  // 04777

        var reply = bench.Call(guest, Copy(bench.Node(src), 0, bench.Node(dst), 0, 10, flags: SgzAbi.ReqCopyFsetid, uid: 0));

        Assert.Equal(0u, reply.Status);
        Assert.Equal(0x1ffu, bench.Zone.Names.StatInode(dst).Permissions);
    }

    [Fact]
    public void Copy_WhileAnotherGuestHoldsTheTargetsLockWord_WaitsForIt()
    {
        using var bench = new RpcBench();
        bench.Zone.GuestWaitMs = 0; // as the service runs it
        var guest = bench.Guest(1);
        var other = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        var src = bench.CreateFile(guest, "src", dir);
        var dst = bench.CreateFile(guest, "dst", dir);
        bench.Zone.Files.Write(src.Ino, 0, new byte[10]);
        other.InodeLockWord(dst.Ino) = (ulong)other.Slot + 1;

        ulong seq = guest.Send(0, Copy(src, 0, dst, 0, 10));
        bench.Serve();
        Assert.False(guest.IsDone(0, seq));
        Assert.Equal(0UL, bench.Zone.Names.StatInode(dst.Ino).Size);

        other.InodeLockWord(dst.Ino) = 0;
        bench.Serve();
        Assert.Equal(10UL, guest.Reply(0, seq).Size);
        Assert.Equal(10UL, bench.Zone.Names.StatInode(dst.Ino).Size);
    }

    private static SgzRequest Copy(NodeRef source, ulong sourceOffset, NodeRef target, ulong targetOffset, ulong length, uint flags = 0, uint uid = Req.User)
    {
        var r = Req.Base(SgzAbi.OpCopy, source, uid, uid);
        r.Offset = sourceOffset;
        r.Ino2 = target.Ino;
        r.Generation2 = target.Generation;
        r.Rdev = targetOffset;
        r.Length = length;
        r.Flags |= flags;
        return r;
    }
}
