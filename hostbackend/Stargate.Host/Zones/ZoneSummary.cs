using System.Text;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// What `stargate zone info` shows: identity, state, usage and the region map. Size is the
/// structure file's; DataBytes and Chunks are the data chunks' (regular files' data, what df
/// shows); PoolBytes the structure pool's. PendingBytes: freed file data waiting in the grace
/// period (counted in DataBytesUsed until every live guest acknowledged it).
/// </summary>
public sealed record ZoneSummary(
    string Path,
    string Version,
    string Uuid,
    ulong Size,
    DateTimeOffset Created,
    bool Clean,
    bool JournalActive,
    ulong OpenCount,
    string? Writer,
    ulong Inodes,
    ulong InodesUsed,
    ulong DataBytes,
    ulong DataBytesUsed,
    ulong Chunks,
    uint GroupChunks,
    uint MaxPeers,
    IReadOnlyList<RegionSummary> Regions,
    string DataPath,
    ulong DataFileSize,
    ulong PoolBytes,
    ulong PoolBytesUsed,
    ulong PendingBytes)
{
    /// <param name="path">The structure file.</param>
    /// <param name="sb">Its superblock.</param>
    /// <param name="g">The checked geometry.</param>
    /// <param name="journalActive">Whether a change is unfinished.</param>
    /// <param name="poolPagesUsed">Pages of the structure pool in use.</param>
    internal static ZoneSummary Of(string path, SgzSuperblock sb, ZoneGeometry g, bool journalActive, ulong poolPagesUsed)
    {
        string uuid;
        string? writer = null;
        unsafe
        {
            uuid = new Guid(new ReadOnlySpan<byte>(sb.Uuid, 16)).ToString();
            if (sb.WriterPid != 0)
            {
                var cmd = new ReadOnlySpan<byte>(sb.WriterCmd, 32);
                int end = cmd.IndexOf((byte)0);
                writer = $"pid {sb.WriterPid} ({Encoding.UTF8.GetString(end < 0 ? cmd : cmd[..end])}) since {ZoneClock.ToDateTime(sb.WriterSinceNs):yyyy-MM-dd HH:mm:ss}Z";
            }
        }

        var regions = new List<RegionSummary> { new("superblock", 0, ZoneGeometry.PageSize) };
        regions.AddRange(g.Regions.Select(r => new RegionSummary(r.Name, r.Region.Offset, r.Region.Size)));
        return new ZoneSummary(
            path,
            $"{sb.VersionMajor}.{sb.VersionMinor}",
            uuid,
            g.ZoneSize,
            ZoneClock.ToDateTime(sb.CreatedNs),
            (sb.Flags & SgzAbi.SbClean) != 0,
            journalActive,
            sb.OpenCount,
            writer,
            g.InodeCount - 1,
            g.InodeCount - 1 - Math.Min(sb.FreeInodes, g.InodeCount - 1),
            g.FileDataPages * ZoneGeometry.PageSize,
            (g.FileDataPages - Math.Min(sb.FreePages, g.FileDataPages)) * ZoneGeometry.PageSize,
            g.ChunkCount - g.FirstDataChunk,
            g.GroupChunks,
            g.MaxPeers,
            regions,
            ZoneFiles.DataPath(path),
            g.DataFileSize,
            g.PoolPages * ZoneGeometry.PageSize,
            poolPagesUsed * ZoneGeometry.PageSize,
            sb.PendingPages * ZoneGeometry.PageSize);
    }
}
