using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>What stat shows of an inode, copied out of the zone.</summary>
public sealed record InodeInfo(
    ulong Ino,
    uint Mode,
    uint Uid,
    uint Gid,
    uint Nlink,
    uint Generation,
    ulong Size,
    ulong Pages,
    ulong Rdev,
    ulong Entries,
    ulong BtimeNs,
    ulong MtimeNs,
    ulong CtimeNs,
    ulong AtimeNs,
    ulong Change,
    int PageTableDepth)
{
    public bool IsDirectory => (Mode & SgzAbi.SIfmt) == SgzAbi.SIfdir;

    public bool IsRegularFile => (Mode & SgzAbi.SIfmt) == SgzAbi.SIfreg;

    public uint Permissions => Mode & SgzAbi.SIallugo;

    internal static InodeInfo From(ulong ino, in SgzInode i) => new(
        ino, i.Mode, i.Uid, i.Gid, i.Nlink, i.Generation, i.Size, i.Pages, i.Rdev, i.Entries,
        i.BtimeNs, i.MtimeNs, i.CtimeNs, i.AtimeNs, i.Change, i.PtDepth);
}

/// <summary>One name in a directory.</summary>
public readonly record struct DirectoryEntry(string Name, ulong Ino, byte Type);
