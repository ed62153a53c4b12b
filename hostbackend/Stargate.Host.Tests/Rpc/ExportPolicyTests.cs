using Stargate.Host.Rpc;
using Stargate.Host.Service;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// The export policy of a guest's socket (docs/security.md "Export policy"): a read-only
/// socket's guests change nothing (EROFS) but read, read-lock and release; root squash makes
/// their uid and gid 0 nobody's.
/// </summary>
public class ExportPolicyTests
{
    private const uint Erofs = 30;
    private const uint Eperm = 1;
    private const uint Eacces = 13;

    public static TheoryData<string> MutatingRequests => ["create", "mkdir", "mknod", "symlink", "link", "unlink", "rmdir", "rename", "chmod", "truncate", "utimes", "allocate", "posix write lock", "flock exclusive"];

    [Theory]
    [MemberData(nameof(MutatingRequests))]
    public void ReadOnlySocket_RefusesEveryMutatingRequest_WithEROFS_AndChangesNothing(string what)
    {
        using var bench = new RpcBench();
        var writer = bench.Guest(1);
        var reader = bench.Guest(2);
        bench.Policies[2] = new ExportPolicy(ReadOnly: true, RootSquash: false);
        var dir = bench.SharedDirectory("d");
        var file = bench.CreateFile(writer, "f", dir);
        Assert.Equal(0u, bench.Call(writer, Req.Mkdir(dir, "empty")).Status);
        var before = bench.Zone.Names.Stat("/d/f");

        var request = what switch
        {
            "create" => Req.Create(dir, "new"),
            "mkdir" => Req.Mkdir(dir, "new"),
            "mknod" => Req.Make(SgzAbi.OpMknod, dir, "new", SgzAbi.SIfifo | 0x1a4),
            "symlink" => Req.Symlink(dir, "new", "f"),
            "link" => Req.Link(dir, "new", file),
            "unlink" => Req.Unlink(dir, "f"),
            "rmdir" => Req.Rmdir(dir, "empty"),
            "rename" => Req.Rename(dir, "f", dir, "new"),
            "chmod" => Req.Chmod(file, 0x1ff),
            "truncate" => Req.SetSize(file, 4096),
            "utimes" => Req.Setattr(file, SgzAbi.AttrMtime),
            "allocate" => Req.Allocate(file, 0, 4096),
            "posix write lock" => Req.Lock(file, SgzAbi.LockWrite, 0, 0, owner: 1, pid: 7),
            _ => Req.Lock(file, SgzAbi.LockWrite, 0, 0, owner: 1, pid: 7, flags: SgzAbi.ReqLockFlock),
        };
        Assert.Equal(Erofs, bench.Call(reader, request).Status);

        Assert.Equal(before, bench.Zone.Names.Stat("/d/f"));
        Assert.Equal(["empty", "f"], bench.Zone.Names.ReadDirectory("/d").Select(e => e.Name).Order());
        var otherWriter = new LockHolder(1, 99, 99);
        Assert.Null(bench.Zone.Locks.TestLock(otherWriter, file, new LockRange(SgzAbi.LockKindPosix, SgzAbi.LockWrite, 0, SgzAbi.LockEof)));
        Assert.Null(bench.Zone.Locks.TestLock(otherWriter, file, new LockRange(SgzAbi.LockKindFlock, SgzAbi.LockWrite, 0, SgzAbi.LockEof)));
    }

    [Fact]
    public void ReadOnlySocket_AllowsReadLocksGetlkUnlockReleaseAndNop()
    {
        using var bench = new RpcBench();
        var writer = bench.Guest(1);
        var reader = bench.Guest(2);
        bench.Policies[2] = new ExportPolicy(ReadOnly: true, RootSquash: false);
        var file = bench.CreateFile(writer, "f", bench.SharedDirectory("d"));

        Assert.Equal(0u, bench.Call(reader, Req.Lock(file, SgzAbi.LockRead, 0, 10, owner: 1, pid: 7)).Status);
        Assert.Equal(0u, bench.Call(reader, Req.Lock(file, SgzAbi.LockRead, 0, 0, owner: 2, pid: 7, flags: SgzAbi.ReqLockFlock)).Status);
        var getlk = bench.Call(reader, Req.Lock(file, SgzAbi.LockWrite, 0, 10, owner: 3, pid: 8, opcode: SgzAbi.OpGetlk));
        Assert.Equal(0u, getlk.Status);
        Assert.Equal((uint)SgzAbi.LockRead, getlk.LockType);
        Assert.Equal(0u, bench.Call(reader, Req.Lock(file, SgzAbi.LockUnlock, 0, 10, owner: 1, pid: 7)).Status);
        Assert.Equal(0u, bench.Call(reader, Req.Release(file)).Status);
        Assert.Equal(0u, bench.Call(reader, Req.Nop()).Status);
    }

    [Fact]
    public void ReadOnlySocket_DoesNotTouchAGuestOfAnotherSocket()
    {
        using var bench = new RpcBench();
        var writer = bench.Guest(1);
        bench.Guest(2);
        bench.Policies[2] = new ExportPolicy(ReadOnly: true, RootSquash: false);
        var dir = bench.SharedDirectory("d");

        Assert.Equal(0u, bench.Call(writer, Req.Create(dir, "f")).Status);
        Assert.Equal(0u, bench.Call(writer, Req.Unlink(dir, "f")).Status);
    }

    [Fact]
    public void RootSquash_MakesRootsNewFilesNobodys()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        bench.Policies[1] = new ExportPolicy(ReadOnly: false, RootSquash: true);
        var dir = bench.SharedDirectory("d");

        Assert.Equal(0u, bench.Call(guest, Req.Create(dir, "f", uid: 0)).Status);

        var made = bench.Zone.Names.Stat("/d/f");
        Assert.Equal(ExportPolicy.Nobody, made.Uid);
        Assert.Equal(ExportPolicy.Nobody, made.Gid);
    }

    [Fact]
    public void RootSquash_RootCannotChownOrWriteWhatNobodyMay()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        bench.Policies[1] = new ExportPolicy(ReadOnly: false, RootSquash: true);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d")); // uid 1000, 0644

        Assert.Equal(Eperm, bench.Call(guest, Req.Chown(file, 0, 0, caller: 0)).Status);
        Assert.Equal(Eacces, bench.Call(guest, Req.SetSize(file, 10, uid: 0)).Status);
        Assert.Equal(Req.User, bench.Zone.Names.Stat("/d/f").Uid);
    }

    [Fact]
    public void RootSquash_SquashesGroup0AmongTheSupplementaryGroups()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, bench.Call(guest, Req.Chown(file, Req.User, 0, caller: 0)).Status);
        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, 0x1b0)).Status); // 0660, group 0
        var truncate = Req.Setattr(file, SgzAbi.AttrSize, 2000, 2000, 0);
        truncate.Offset = 10;
        Assert.Equal(0u, bench.Call(guest, truncate).Status);

        bench.Policies[1] = new ExportPolicy(ReadOnly: false, RootSquash: true);
        truncate.Offset = 20;
        Assert.Equal(Eacces, bench.Call(guest, truncate).Status);
        Assert.Equal(10ul, bench.Zone.Names.Stat("/d/f").Size);
    }

    [Theory]
    [InlineData("/run/a.sock", "/run/a.sock", false, false)]
    [InlineData("/run/a.sock,ro", "/run/a.sock", true, false)]
    [InlineData("/run/a.sock,root_squash", "/run/a.sock", false, true)]
    [InlineData("/run/a.sock,ro,root_squash", "/run/a.sock", true, true)]
    [InlineData("/run/a.sock,ro,rw,root_squash,no_root_squash", "/run/a.sock", false, false)]
    public void ServeSocketOptions_ParseAsAnExportLine(string text, string path, bool readOnly, bool squash)
    {
        var socket = ExportSocket.Parse(text);

        Assert.Equal(path, socket.Path);
        Assert.Equal(new ExportPolicy(readOnly, squash), socket.Policy);
    }

    [Theory]
    [InlineData("/run/a.sock,readonly", "unknown option 'readonly'")]
    [InlineData(",ro", "no path")]
    public void ServeSocketOptions_Unknown_FailWithALineThatNamesIt(string text, string says)
    {
        var e = Assert.Throws<ArgumentException>(() => ExportSocket.Parse(text));

        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGuestOfNoKnownSocket_GetsWhatEverySocketAllows()
    {
        Assert.Equal(new ExportPolicy(true, true), new ExportPolicy(true, false).Strictest(new ExportPolicy(false, true)));
        Assert.Equal(ExportPolicy.ReadWrite, ExportPolicy.ReadWrite.Strictest(ExportPolicy.ReadWrite));
    }
}
