using System.Text;
using Stargate.Host.Rpc;
using Stargate.Host.Tests.Support;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// SGZ_OP_SETXATTR, SGZ_OP_REMOVEXATTR and long symlink targets through the request ring:
/// the payload buffer (copied once, with the request), and the checks of docs/requests.md.
/// </summary>
public sealed unsafe class XattrRequestTests
{
    private const int ENODATA = 61;

    [Fact]
    public void SetAndRemove_ThroughThePayload_ChangeTheInode()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(0u, Call(bench, guest, Set(file, "user.a", "value"), "value").Status);
        Assert.Equal("value"u8.ToArray(), bench.Zone.Xattrs.GetXattr("/d/f", "user.a"));
        Assert.Equal((uint)Errno.EEXIST, Call(bench, guest, Set(file, "user.a", "x", SgzAbi.XattrCreate), "x").Status);
        Assert.Equal((uint)ENODATA, Call(bench, guest, Set(file, "user.b", "x", SgzAbi.XattrReplace), "x").Status);
        Assert.Equal(0u, bench.Call(guest, Remove(file, "user.a")).Status);
        Assert.Equal((uint)ENODATA, bench.Call(guest, Remove(file, "user.a")).Status);
        Assert.Empty(bench.Zone.Xattrs.ListXattrs("/d/f"));
        bench.AssertFsckClean();
    }

    [Theory]
    [InlineData("payload longer than its buffer", Errno.EINVAL)]
    [InlineData("payload on an opcode without one", Errno.EINVAL)]
    [InlineData("setxattr without a payload", Errno.EINVAL)]
    [InlineData("removexattr with a payload", Errno.EINVAL)]
    [InlineData("both create and replace", Errno.EINVAL)]
    [InlineData("unknown xattr flag", Errno.EINVAL)]
    [InlineData("empty xattr name", Errno.EINVAL)]
    [InlineData("xattr name of 256 bytes", Errno.ENAMETOOLONG)]
    [InlineData("unknown namespace", Errno.EOPNOTSUPP)]
    [InlineData("posix acl", Errno.EOPNOTSUPP)]
    [InlineData("value larger than a block", Errno.ENOSPC)]
    [InlineData("trusted without CAP_SYS_ADMIN", Errno.EPERM)]
    [InlineData("symlink target of 4096 bytes", Errno.ENAMETOOLONG)]
    [InlineData("symlink target with NUL in the payload", Errno.EINVAL)]
    public void BadField_GetsItsErrno_AndChangesNothing(string what, int errno)
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(2);
        var dir = bench.SharedDirectory("d");
        var file = bench.CreateFile(guest, "f", dir);
        var before = ZoneState.Capture(bench.Zone);
        string payload = "v";
        var request = what switch
        {
            "payload longer than its buffer" => With(Set(file, "user.a", "v"), (ref SgzRequest r) => r.Length = SgzAbi.PayloadSize + 1),
            "payload on an opcode without one" => With(Req.Create(dir, "g"), (ref SgzRequest r) => { r.Flags |= SgzAbi.ReqPayload; r.Length = 1; }),
            "setxattr without a payload" => With(Set(file, "user.a", "v"), (ref SgzRequest r) => r.Flags &= ~SgzAbi.ReqPayload),
            "removexattr with a payload" => With(Remove(file, "user.a"), (ref SgzRequest r) => { r.Flags |= SgzAbi.ReqPayload; r.Length = 1; }),
            "both create and replace" => Set(file, "user.a", "v", SgzAbi.XattrCreate | SgzAbi.XattrReplace),
            "unknown xattr flag" => Set(file, "user.a", "v", 8),
            "empty xattr name" => Set(file, "", "v"),
            "xattr name of 256 bytes" => Set(file, "user." + new string('n', 251), "v"),
            "unknown namespace" => Set(file, "os2.a", "v"),
            "posix acl" => Set(file, "system.posix_acl_access", "v"),
            "value larger than a block" => Set(file, "user.a", payload = new string('v', SgzAbi.PayloadSize)),
            "trusted without CAP_SYS_ADMIN" => Set(file, "trusted.a", "v"),
            "symlink target of 4096 bytes" => Symlink(dir, "l", payload = new string('t', SgzAbi.SymlinkTargetMax + 1)),
            "symlink target with NUL in the payload" => Symlink(dir, "l", payload = "a\0b"),
            _ => throw new ArgumentException(what),
        };

        var reply = Call(bench, guest, request, payload, tag: 3);
        Assert.Equal((uint)errno, reply.Status);
        Assert.Equal(before, ZoneState.Capture(bench.Zone));
    }

    [Fact]
    public void Payload_IsCopiedOnceWithTheRequest_ARewriteAfterTheCopyIsNotSeen()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Encoding.ASCII.GetBytes("first").CopyTo(guest.Payload(0));
        bench.Server.AfterCopy = (slot, tag) => Encoding.ASCII.GetBytes("XXXXX").CopyTo(guest.Payload(tag));
        ulong seq = guest.Send(0, Set(file, "user.a", "first"));
        bench.Serve();
        Assert.Equal(0u, guest.Reply(0, seq).Status);
        Assert.Equal("first"u8.ToArray(), bench.Zone.Xattrs.GetXattr("/d/f", "user.a"));
    }

    [Fact]
    public void Trusted_NeedsTheAdminFlag_WhichRootSquashDrops()
    {
        using var bench = new RpcBench();
        bench.Policies[2] = new ExportPolicy(ReadOnly: false, RootSquash: true);
        var guest = bench.Guest(1);
        var squashed = bench.Guest(2);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, Call(bench, guest, Set(file, "trusted.a", "v", SgzAbi.ReqXattrAdmin), "v").Status);
        Assert.Equal((uint)Errno.EPERM, Call(bench, squashed, Set(file, "trusted.b", "v", SgzAbi.ReqXattrAdmin, uid: 0), "v").Status);
        Assert.Equal((uint)Errno.EPERM, bench.Call(guest, Remove(file, "trusted.a")).Status);
        Assert.Equal(0u, bench.Call(guest, With(Remove(file, "trusted.a"), (ref SgzRequest r) => r.Flags |= SgzAbi.ReqXattrAdmin)).Status);
    }

    [Fact]
    public void AReadOnlySocketsGuest_CannotSetOrRemove()
    {
        using var bench = new RpcBench();
        bench.Policies[2] = new ExportPolicy(ReadOnly: true, RootSquash: false);
        var writer = bench.Guest(1);
        var reader = bench.Guest(2);
        var file = bench.CreateFile(writer, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, Call(bench, writer, Set(file, "user.a", "v"), "v").Status);
        Assert.Equal((uint)Errno.EROFS, Call(bench, reader, Set(file, "user.b", "v"), "v").Status);
        Assert.Equal((uint)Errno.EROFS, bench.Call(reader, Remove(file, "user.a")).Status);
        Assert.Equal(["user.a"], bench.Zone.Xattrs.ListXattrs("/d/f").Select(e => e.FullName));
    }

    [Fact]
    public void Symlink_OfTheLongestTarget_GoesThroughThePayload()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        string target = new('t', SgzAbi.SymlinkTargetMax);
        var reply = Call(bench, guest, Symlink(dir, "l", target), target);
        Assert.Equal(0u, reply.Status);
        Assert.Equal(Encoding.ASCII.GetBytes(target), bench.Zone.Names.ReadLink(reply.Ino));
        bench.AssertFsckClean();
    }

    private static SgzReply Call(RpcBench bench, TestGuest guest, SgzRequest request, string payload, int tag = 0)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(payload);
        bytes.AsSpan(0, Math.Min(bytes.Length, SgzAbi.PayloadSize)).CopyTo(guest.Payload(tag));
        return bench.Call(guest, request, tag);
    }

    private static SgzRequest Set(NodeRef file, string name, string value, uint flags = 0, uint uid = Req.User)
    {
        var r = Req.Base(SgzAbi.OpSetxattr, file, uid, uid);
        r.Flags |= SgzAbi.ReqPayload | flags;
        r.Length = (ulong)Encoding.ASCII.GetByteCount(value);
        Req.SetName2(ref r, Encoding.ASCII.GetBytes(name));
        return r;
    }

    private static SgzRequest Remove(NodeRef file, string name)
    {
        var r = Req.Base(SgzAbi.OpRemovexattr, file, Req.User, Req.User);
        Req.SetName2(ref r, Encoding.ASCII.GetBytes(name));
        return r;
    }

    private static SgzRequest Symlink(NodeRef dir, string name, string target)
    {
        var r = Req.Make(SgzAbi.OpSymlink, dir, name, SgzAbi.SIflnk | 0x1ff);
        r.Flags |= SgzAbi.ReqPayload;
        r.Length = (ulong)Encoding.ASCII.GetByteCount(target);
        return r;
    }

    private delegate void Edit(ref SgzRequest r);

    private static SgzRequest With(SgzRequest r, Edit edit)
    {
        edit(ref r);
        return r;
    }
}
