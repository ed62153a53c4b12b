using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Cli;

/// <summary>
/// One run of a file's bytes in the zone, as `stat --extents` prints it: file offset, zone
/// offset and length, all in bytes; <see cref="Huge"/> for 2 MiB leaves (one PMD each in a
/// guest's mapping), false for 4 KiB pages.
/// </summary>
internal sealed record FileExtent(ulong FileOffset, ulong ZoneOffset, ulong Length, bool Huge)
{
    public string Kind => Huge ? "2M" : "4K";
}

/// <summary>
/// A file's mapped extents, like filefrag: every allocated leaf of its page table in file
/// order (allocated space past the end of the file included, holes left out), neighbours
/// merged when they follow each other both in the file and in the zone and are of one kind.
/// </summary>
internal static class FileExtents
{
    public static IReadOnlyList<FileExtent> Of(Zone zone, ulong ino)
    {
        var extents = new List<FileExtent>();
        using (zone.Exclusive())
        {
            var inode = zone.Inodes.LoadLive(ino);
            ulong end = PageTables.Capacity(inode.PtDepth);
            for (ulong pos = 0; pos < end;)
            {
                var leaf = zone.PageTables.Map(ino, inode, pos);
                ulong length = Math.Min(leaf.Length, end - pos);
                if (!leaf.IsHole)
                {
                    // Walks start at leaf boundaries, so a leaf longer than a page is a 2 MiB one.
                    Add(extents, new FileExtent(pos, leaf.ZoneOffset, length, length > SgzAbi.PageSize));
                }

                pos += length;
            }
        }

        return extents;
    }

    private static void Add(List<FileExtent> extents, FileExtent next)
    {
        if (extents.Count > 0 && extents[^1] is var last && last.Huge == next.Huge
            && last.FileOffset + last.Length == next.FileOffset && last.ZoneOffset + last.Length == next.ZoneOffset)
        {
            extents[^1] = last with { Length = last.Length + next.Length };
            return;
        }

        extents.Add(next);
    }
}
