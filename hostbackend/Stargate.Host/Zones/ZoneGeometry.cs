using System.Numerics;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Where every region of a zone lives. <see cref="ForSize"/> chooses the layout at
/// format time; <see cref="FromSuperblock"/> takes it back from an untrusted
/// superblock and checks every number before anything uses it.
/// </summary>
public sealed record ZoneGeometry
{
    public const ulong PageSize = SgzAbi.PageSize;
    public const ulong ChunkSize = SgzAbi.ChunkSize;
    public const ulong MinSize = 1UL << SgzAbi.ZoneMinShift;
    public const ulong MaxSize = 1UL << SgzAbi.ZoneMaxShift;

    public required ulong ZoneSize { get; init; }
    public required ulong InodeCount { get; init; }
    public required ulong ChunkCount { get; init; }
    public required uint GroupChunks { get; init; }
    public required uint MaxPeers { get; init; }
    public required uint RingBytes { get; init; }
    public required uint LockSlots { get; init; }
    public required ZoneRegion Journal { get; init; }
    public required ZoneRegion PeerTable { get; init; }
    public required ZoneRegion LockTable { get; init; }
    public required ZoneRegion Rings { get; init; }

    /// <summary>Where peer slot <paramref name="slot"/>'s ring area starts (slots are not checked here).</summary>
    public ulong RingAreaOffset(int slot) => Rings.Offset + ((ulong)slot * RingBytes);
    public required ZoneRegion InodeBitmap { get; init; }
    public required ZoneRegion PageBitmap { get; init; }
    public required ZoneRegion ChunkUsage { get; init; }
    public required ZoneRegion GroupOwner { get; init; }
    public required ZoneRegion InodeTable { get; init; }
    public required ZoneRegion Data { get; init; }

    public ulong DataPages => ChunkCount * SgzAbi.PagesPerChunk;

    public ulong GroupCount => (ChunkCount + GroupChunks - 1) / GroupChunks;

    /// <summary>The regions in zone order, with the names the superblock and docs use.</summary>
    public IEnumerable<(string Name, ZoneRegion Region)> Regions =>
    [
        ("journal", Journal), ("peer_table", PeerTable), ("lock_table", LockTable), ("rings", Rings),
        ("inode_bitmap", InodeBitmap), ("page_bitmap", PageBitmap), ("chunk_usage", ChunkUsage),
        ("group_owner", GroupOwner), ("inode_table", InodeTable), ("data", Data),
    ];

    /// <summary>Checks that a size is one a zone can have: a power of two in [16 MiB, 1 TiB].</summary>
    public static void CheckSize(ulong size)
    {
        if (size < MinSize || size > MaxSize || !BitOperations.IsPow2(size))
        {
            throw new ZoneException(ZoneError.InvalidArgument,
                $"zone size {Units.Bytes(size)} must be a power of two from {Units.Bytes(MinSize)} to {Units.Bytes(MaxSize)} (QEMU maps the zone as a PCI BAR, whose size must be a power of two)");
        }
    }

    /// <summary>The layout a new zone of <paramref name="size"/> bytes gets.</summary>
    public static ZoneGeometry ForSize(ulong size)
    {
        CheckSize(size);
        ulong cursor = PageSize; // page 0: the superblock
        ZoneRegion Next(ulong bytes)
        {
            var region = new ZoneRegion(cursor, Units.RoundUp(bytes, PageSize));
            cursor = region.End;
            return region;
        }

        ulong maxChunks = size / ChunkSize;
        uint maxPeers = (uint)Math.Clamp(size >> 20, 8, 256);
        uint lockSlots = (uint)Math.Clamp(size >> 16, 1024, 65536);
        ulong inodes = Math.Min(Math.Max(SgzAbi.MinInodes, size / SgzAbi.BytesPerInode), uint.MaxValue);
        uint groupChunks = (uint)Math.Clamp(BitOperations.RoundUpToPowerOf2(Math.Max(1, maxChunks / 256)), 1, 64);
        ulong maxGroups = (maxChunks + groupChunks - 1) / groupChunks;

        var journal = Next(Math.Clamp(size / 1024, SgzAbi.JournalMinSize, SgzAbi.JournalMaxSize));
        var peers = Next(maxPeers * (ulong)SgzAbi.PeerSize);
        var locks = Next(lockSlots * (ulong)SgzAbi.LockSize);
        var rings = Next(maxPeers * (ulong)SgzAbi.RingBytes);
        var inodeBitmap = Next((inodes + 63) / 64 * 8);
        var pageBitmap = Next(maxChunks * SgzAbi.PagesPerChunk / 8);
        var chunkUsage = Next(maxChunks * 2);
        var groupOwner = Next(maxGroups * 2);
        var inodeTable = Next(inodes * SgzAbi.InodeSize);
        ulong dataOffset = Units.RoundUp(cursor, ChunkSize);
        ulong chunks = (size - dataOffset) / ChunkSize;
        return new ZoneGeometry
        {
            ZoneSize = size,
            InodeCount = inodes,
            ChunkCount = chunks,
            GroupChunks = groupChunks,
            MaxPeers = maxPeers,
            RingBytes = SgzAbi.RingBytes,
            LockSlots = lockSlots,
            Journal = journal,
            PeerTable = peers,
            LockTable = locks,
            Rings = rings,
            InodeBitmap = inodeBitmap,
            PageBitmap = pageBitmap,
            ChunkUsage = chunkUsage,
            GroupOwner = groupOwner,
            InodeTable = inodeTable,
            Data = new ZoneRegion(dataOffset, chunks * ChunkSize),
        };
    }

    /// <summary>
    /// Reads the geometry from a superblock that passed its magic, version and crc
    /// checks, and proves it safe to use: every region inside the zone, aligned, in
    /// order, and large enough for the counts that index it.
    /// </summary>
    public static ZoneGeometry FromSuperblock(in SgzSuperblock sb, ulong fileSize, string path)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new ZoneCorruptException($"{path}: superblock geometry is invalid: {what}");
            }
        }

        Require(sb.ZoneSize == fileSize,
            $"zone_size is {Units.Bytes(sb.ZoneSize)} but the file holds {Units.Bytes(fileSize)}");
        Require(sb.ZoneSize >= MinSize && sb.ZoneSize <= MaxSize && BitOperations.IsPow2(sb.ZoneSize),
            $"zone_size {sb.ZoneSize} is not a power of two in range");
        Require(sb.PageSize == SgzAbi.PageSize && sb.ChunkSize == SgzAbi.ChunkSize
                && sb.InodeSize == SgzAbi.InodeSize && sb.DirentSize == SgzAbi.DirentSize,
            "page, chunk, inode or dirent size differs from this format's");
        Require(sb.InodeCount >= 2 && sb.InodeCount <= uint.MaxValue, $"inode_count {sb.InodeCount}");
        Require(sb.GroupChunks >= 1 && sb.GroupChunks <= 4096 && BitOperations.IsPow2(sb.GroupChunks),
            $"group_chunks {sb.GroupChunks}");
        Require(sb.MaxPeers >= 1 && sb.MaxPeers <= 65536, $"max_peers {sb.MaxPeers}");
        Require(sb.RingBytes % PageSize == 0 && sb.RingBytes <= 1 << 24, $"ring_bytes {sb.RingBytes}");
        Require(sb.LockSlots <= 1 << 24, $"lock_slots {sb.LockSlots}");
        Require(sb.RootIno == SgzAbi.RootIno, $"root_ino {sb.RootIno}");

        var g = new ZoneGeometry
        {
            ZoneSize = sb.ZoneSize,
            InodeCount = sb.InodeCount,
            ChunkCount = sb.ChunkCount,
            GroupChunks = sb.GroupChunks,
            MaxPeers = sb.MaxPeers,
            RingBytes = sb.RingBytes,
            LockSlots = sb.LockSlots,
            Journal = new(sb.Journal.Offset, sb.Journal.Size),
            PeerTable = new(sb.PeerTable.Offset, sb.PeerTable.Size),
            LockTable = new(sb.LockTable.Offset, sb.LockTable.Size),
            Rings = new(sb.Rings.Offset, sb.Rings.Size),
            InodeBitmap = new(sb.InodeBitmap.Offset, sb.InodeBitmap.Size),
            PageBitmap = new(sb.PageBitmap.Offset, sb.PageBitmap.Size),
            ChunkUsage = new(sb.ChunkUsage.Offset, sb.ChunkUsage.Size),
            GroupOwner = new(sb.GroupOwner.Offset, sb.GroupOwner.Size),
            InodeTable = new(sb.InodeTable.Offset, sb.InodeTable.Size),
            Data = new(sb.Data.Offset, sb.Data.Size),
        };

        ulong previousEnd = PageSize;
        foreach (var (name, region) in g.Regions)
        {
            Require(region.Offset % PageSize == 0 && region.Size % PageSize == 0,
                $"region {name} at 0x{region.Offset:x} (+0x{region.Size:x}) is not page aligned");
            Require(region.Offset >= previousEnd && region.Size <= sb.ZoneSize && region.Offset <= sb.ZoneSize - region.Size,
                $"region {name} at 0x{region.Offset:x} (+0x{region.Size:x}) overlaps another or leaves the zone");
            previousEnd = region.End;
        }

        Require(g.Journal.Size >= SgzAbi.JournalMinSize, "journal smaller than the minimum");
        Require(g.PeerTable.Size >= (ulong)g.MaxPeers * SgzAbi.PeerSize, "peer_table too small for max_peers");
        Require(g.LockTable.Size >= (ulong)g.LockSlots * SgzAbi.LockSize, "lock_table too small for lock_slots");
        Require(g.Rings.Size >= (ulong)g.MaxPeers * g.RingBytes, "rings too small for max_peers");
        Require(g.InodeBitmap.Size * 8 >= g.InodeCount, "inode_bitmap too small for inode_count");
        Require(g.InodeTable.Size / SgzAbi.InodeSize >= g.InodeCount, "inode_table too small for inode_count");
        Require(g.Data.Offset % ChunkSize == 0, "data region not 2 MiB aligned");
        Require(g.Data.Size == g.ChunkCount * ChunkSize, "data size does not match chunk_count");
        Require(g.ChunkCount >= 1, "no data chunks");
        Require(g.PageBitmap.Size * 8 >= g.DataPages, "page_bitmap too small for chunk_count");
        Require(g.ChunkUsage.Size / 2 >= g.ChunkCount, "chunk_usage too small for chunk_count");
        Require(g.GroupOwner.Size / 2 >= g.GroupCount, "group_owner too small for the group count");
        return g;
    }

    /// <summary>Writes the geometry into a superblock being formatted.</summary>
    public void WriteTo(ref SgzSuperblock sb)
    {
        sb.ZoneSize = ZoneSize;
        sb.PageSize = SgzAbi.PageSize;
        sb.ChunkSize = SgzAbi.ChunkSize;
        sb.InodeSize = SgzAbi.InodeSize;
        sb.DirentSize = SgzAbi.DirentSize;
        sb.InodeCount = InodeCount;
        sb.ChunkCount = ChunkCount;
        sb.GroupChunks = GroupChunks;
        sb.MaxPeers = MaxPeers;
        sb.RingBytes = RingBytes;
        sb.LockSlots = LockSlots;
        sb.Journal = Journal.ToAbi();
        sb.PeerTable = PeerTable.ToAbi();
        sb.LockTable = LockTable.ToAbi();
        sb.Rings = Rings.ToAbi();
        sb.InodeBitmap = InodeBitmap.ToAbi();
        sb.PageBitmap = PageBitmap.ToAbi();
        sb.ChunkUsage = ChunkUsage.ToAbi();
        sb.GroupOwner = GroupOwner.ToAbi();
        sb.InodeTable = InodeTable.ToAbi();
        sb.Data = Data.ToAbi();
    }

    /// <summary>Zone offset of data page <paramref name="page"/>.</summary>
    public ulong PageOffset(ulong page) => Data.Offset + (page * PageSize);

    /// <summary>Data page index of a zone offset inside the data region.</summary>
    public ulong PageIndex(ulong zoneOffset) => (zoneOffset - Data.Offset) / PageSize;

    public ulong InodeOffset(ulong ino) => InodeTable.Offset + (ino * SgzAbi.InodeSize);
}

/// <summary>A byte range of the zone.</summary>
public readonly record struct ZoneRegion(ulong Offset, ulong Size)
{
    public ulong End => Offset + Size;

    public bool Contains(ulong offset, ulong length) =>
        offset >= Offset && length <= Size && offset - Offset <= Size - length;

    public SgzRegion ToAbi() => new() { Offset = Offset, Size = Size };
}
