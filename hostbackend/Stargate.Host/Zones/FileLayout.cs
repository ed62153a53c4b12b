using System.Globalization;
using System.Text;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>An allocated run of a file's pages: bytes [FileOffset, +Length) of the file are bytes [DataOffset, +Length) of the data file.</summary>
internal readonly record struct MappedRun(ulong FileOffset, ulong Length, ulong DataOffset);

/// <summary>
/// Where a regular file's pages are: its size, and every allocated run of its page table in
/// file order (pages allocated ahead, past the size, too: a write that extends the file into
/// them changes no page table), the rest being holes. What a <see cref="ZoneFileMapping"/>
/// maps. Serve sends it to mapping clients as text: `INO GEN SIZE OFFSET:LENGTH:DATA ...`.
/// </summary>
internal sealed record FileLayout(NodeRef File, ulong Size, IReadOnlyList<MappedRun> Runs)
{
    /// <summary>The most runs a layout line may carry (a 16 TiB file of 2 MiB leaves, one run each); more is refused as garbage.</summary>
    public const int MaxRuns = 1 << 23;

    /// <summary>
    /// The layout of <paramref name="file"/> now, read from its page table; the zone's lock is
    /// held by the caller. A file whose inode is gone (unlinked and closed, or reused) has size
    /// 0 and no runs: a mapping of it reads zeros.
    /// </summary>
    public static FileLayout Of(Zone zone, NodeRef file)
    {
        SgzInode inode;
        try
        {
            inode = zone.Inodes.LoadNode(file);
        }
        catch (ZoneException e) when (e.Error == ZoneError.Stale)
        {
            return new FileLayout(file, 0, []);
        }

        ulong dataStart = zone.Memory.StructureLength;
        ulong end = PageTables.Capacity(inode.PtDepth);
        var runs = new List<MappedRun>();
        for (ulong pos = 0; pos < end;)
        {
            var extent = zone.PageTables.Map(file.Ino, inode, pos);
            ulong length = Math.Min(extent.Length, end - pos);
            if (!extent.IsHole)
            {
                if (extent.ZoneOffset < dataStart)
                {
                    throw new ZoneCorruptException($"{zone.Path}: inode {file.Ino}: offset {pos} is in the structure file, not the data file");
                }

                ulong data = extent.ZoneOffset - dataStart;
                if (runs.Count > 0 && runs[^1] is var last && last.FileOffset + last.Length == pos && last.DataOffset + last.Length == data)
                {
                    runs[^1] = last with { Length = last.Length + length };
                }
                else
                {
                    runs.Add(new MappedRun(pos, length, data));
                }
            }

            pos += length;
        }

        return new FileLayout(file, inode.Size, runs);
    }

    /// <summary>The text form: `INO GEN SIZE OFFSET:LENGTH:DATA ...`.</summary>
    public string Format()
    {
        var text = new StringBuilder(32 + (Runs.Count * 24));
        text.Append(CultureInfo.InvariantCulture, $"{File.Ino} {File.Generation} {Size}");
        foreach (var run in Runs)
        {
            text.Append(CultureInfo.InvariantCulture, $" {run.FileOffset}:{run.Length}:{run.DataOffset}");
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads the text form, checking that runs are page-aligned, in order, do not overlap, and
    /// lie inside the largest file and inside a data file of <paramref name="dataFileSize"/>
    /// bytes; anything else is an IOException naming what is wrong.
    /// </summary>
    public static FileLayout Parse(string text, ulong dataFileSize)
    {
        string[] words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3 || words.Length - 3 > MaxRuns
            || !ulong.TryParse(words[0], CultureInfo.InvariantCulture, out ulong ino)
            || !uint.TryParse(words[1], CultureInfo.InvariantCulture, out uint generation)
            || !ulong.TryParse(words[2], CultureInfo.InvariantCulture, out ulong size)
            || size > ulong.MaxValue - ZoneGeometry.PageSize)
        {
            throw new IOException($"not a file layout: '{Shorten(text)}'");
        }

        ulong end = PageTables.Capacity(SgzAbi.PtMaxDepth);
        var runs = new List<MappedRun>(words.Length - 3);
        ulong next = 0;
        foreach (string word in words.AsSpan(3))
        {
            string[] parts = word.Split(':');
            if (parts.Length != 3
                || !ulong.TryParse(parts[0], CultureInfo.InvariantCulture, out ulong offset)
                || !ulong.TryParse(parts[1], CultureInfo.InvariantCulture, out ulong length)
                || !ulong.TryParse(parts[2], CultureInfo.InvariantCulture, out ulong data)
                || length == 0 || offset < next || offset >= end || length > end - offset
                || length > dataFileSize || data > dataFileSize - length
                || (offset | length | data) % ZoneGeometry.PageSize != 0)
            {
                throw new IOException($"file layout of inode {ino}: run '{Shorten(word)}' is not page-aligned, out of order, or outside the file or the data file");
            }

            runs.Add(new MappedRun(offset, length, data));
            next = offset + length;
        }

        return new FileLayout(new NodeRef(ino, generation), size, runs);
    }

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "..." : text;
}
