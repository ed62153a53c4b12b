using System.Text;
using Stargate.Host.Fsck;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// A fresh zone opened for the inode API, with helpers; on Dispose it closes the zone and
/// fails the test unless fsck finds it clean.
/// </summary>
internal sealed class RequestZone : IDisposable
{
    public const uint FileMode = 0x1a4;  // 0644
    public const uint DirMode = 0x1ed;   // 0755
    private readonly TempZone _temp;
    private bool _closed;

    public RequestZone(ulong size = 64UL << 20)
    {
        _temp = new TempZone(size);
        Z = _temp.Open();
    }

    public Zone Z { get; private set; }

    public string Path => _temp.Path;

    public NodeRef Root => Ref(SgzAbi.RootIno);

    public static byte[] N(string name) => Encoding.UTF8.GetBytes(name);

    public static Caller User(uint uid, uint gid = 100, int slot = 1) => new(uid, gid, slot);

    public NodeRef Ref(ulong ino) => new(ino, Z.Names.StatInode(ino).Generation);

    public NodeRef File(NodeRef dir, string name, Caller? c = null, uint mode = FileMode) =>
        Z.Names.MakeNode(c ?? Caller.Host, dir, N(name), SgzAbi.SIfreg | mode, []);

    public NodeRef Dir(NodeRef dir, string name, Caller? c = null, uint mode = DirMode) =>
        Z.Names.MakeNode(c ?? Caller.Host, dir, N(name), SgzAbi.SIfdir | mode, []);

    public NodeRef? Lookup(NodeRef dir, string name) =>
        Z.Names.ReadDirectory(dir.Ino).Where(e => e.Name == name).Select(e => (NodeRef?)Ref(e.Ino)).FirstOrDefault();

    public void Chmod(NodeRef node, uint mode) =>
        Z.Files.SetAttributes(Caller.Host, node, new AttributeChange(SgzAbi.AttrMode, mode, 0, 0, 0, 0, 0));

    public void Chown(NodeRef node, uint uid, uint gid) =>
        Z.Files.SetAttributes(Caller.Host, node, new AttributeChange(SgzAbi.AttrUid | SgzAbi.AttrGid, 0, uid, gid, 0, 0, 0));

    /// <summary>The error an operation fails with (it must fail with a ZoneException).</summary>
    public static ZoneError Fails(Action action) => Assert.ThrowsAny<ZoneException>(action).Error;

    public static int Errno(Action action) => ZoneErrors.ToErrno(Fails(action));

    /// <summary>Closes and reopens the zone, as a service restart would.</summary>
    public void Reopen()
    {
        Z.Dispose();
        Z = _temp.Open();
    }

    /// <summary>Closes the zone and returns fsck's report.</summary>
    public FsckReport CloseAndCheck(bool repair = false)
    {
        Z.Dispose();
        _closed = true;
        return ZoneChecker.Check(Path, repair);
    }

    public void Dispose()
    {
        try
        {
            if (!_closed)
            {
                var report = CloseAndCheck();
                Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
            }
        }
        finally
        {
            _temp.Dispose();
        }
    }
}
