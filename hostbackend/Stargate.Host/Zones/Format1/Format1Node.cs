namespace Stargate.Host.Zones.Format1;

/// <summary>
/// An inode of a format 1 zone, copied out and checked: what `zone migrate` carries over.
/// <see cref="Extents"/> are the allocated ranges of a regular file below its size, in file order
/// (zone offsets in the old file); <see cref="Target"/> is a symbolic link's target.
/// </summary>
internal sealed record Format1Node(ulong Ino, uint Mode, uint Uid, uint Gid, uint Nlink, ulong Size, ulong AtimeNs, ulong MtimeNs, ulong CtimeNs)
{
    public List<Format1Extent> Extents { get; } = [];

    public byte[] Target { get; init; } = [];

    public uint Type => Mode & Format1Layout.SIfmt;
}

/// <summary>Bytes [FileOffset, FileOffset + Length) of a file, at <see cref="ZoneOffset"/> in the old zone file.</summary>
internal readonly record struct Format1Extent(ulong FileOffset, ulong ZoneOffset, ulong Length);

/// <summary>One name: <see cref="Name"/> in directory <see cref="ParentIno"/>; <see cref="Path"/> (from the root, for messages).</summary>
internal sealed record Format1Entry(string Path, ulong ParentIno, byte[] Name, ulong Ino);

/// <summary>
/// A format 1 zone's whole tree, checked: <see cref="Entries"/> in an order where a directory
/// comes before its entries; <see cref="Nodes"/> by inode number, the root included.
/// </summary>
internal sealed record Format1Tree(string Version, ulong ZoneSize, IReadOnlyList<Format1Entry> Entries, IReadOnlyDictionary<ulong, Format1Node> Nodes);
