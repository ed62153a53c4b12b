using System.Numerics;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Where every region of a zone lives, across its two files (one zone offset space: Z, then
/// Z.data). <see cref="ForSize"/> chooses the layout at format time from the data file's
/// size; <see cref="FromSuperblock"/> takes it back from an untrusted superblock and checks
/// every number before anything uses it.
/// </summary>
public sealed record ZoneGeometry
{
    public const ulong PageSize = SgzAbi.PageSize;
    public const ulong ChunkSize = SgzAbi.ChunkSize;
    public const ulong MinSize = 1UL << SgzAbi.ZoneMinShift;
    public const ulong MaxSize = 1UL << SgzAbi.ZoneMaxShift;

    /// <summary>Bytes of the structure file Z (the superblock's zone_size).</summary>
    public required ulong ZoneSize { get; init; }

    /// <summary>Bytes of the data file Z.data (the size a user asks for); zone offsets from <see cref="ZoneSize"/> on are in it.</summary>
    public required ulong DataFileSize { get; init; }
    public required ulong InodeCount { get; init; }

    /// <summary>Chunks of the chunk space: <see cref="PoolChunks"/>, then <see cref="HeaderChunks"/>, then the data chunks.</summary>
    public required ulong ChunkCount { get; init; }

    /// <summary>Chunks of the structure pool, at the end of Z: page-table nodes, directory pages, symlink targets.</summary>
    public required uint PoolChunks { get; init; }

    /// <summary>Chunks at the start of Z.data holding the data header, the rings and the hints: always in use, never allocated.</summary>
    public required uint HeaderChunks { get; init; }
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

    /// <summary>inode_count x struct sgz_hint, in Z.data's header chunks.</summary>
    public required ZoneRegion Hints { get; init; }

    /// <summary>2.1, the grace period: a bit per chunk-space page freed but pending.</summary>
    public required ZoneRegion GracePages { get; init; }

    /// <summary>2.1: the highest epoch of each chunk's pending pages (a u64 per chunk).</summary>
    public required ZoneRegion GraceEpochs { get; init; }

    /// <summary>2.1: the invalidation log (struct sgz_inval_header and its records).</summary>
    public required ZoneRegion InvalLog { get; init; }

    /// <summary>Bytes of the invalidation log region: the header, then the records.</summary>
    public static ulong InvalLogBytes => Units.RoundUp(SgzAbi.InvalHeaderSize + ((ulong)SgzAbi.InvalRecords * SgzAbi.InvalRecordSize), PageSize);

    /// <summary>Pages of the whole chunk space (what the bitmaps index).</summary>
    public ulong DataPages => ChunkCount * SgzAbi.PagesPerChunk;

    /// <summary>The first data chunk: regular files' data lives in [FirstDataChunk, ChunkCount).</summary>
    public ulong FirstDataChunk => (ulong)PoolChunks + HeaderChunks;

    /// <summary>Pages of the data chunks: what free_pages counts down from.</summary>
    public ulong FileDataPages => (ChunkCount - FirstDataChunk) * SgzAbi.PagesPerChunk;

    /// <summary>Pages of the structure pool.</summary>
    public ulong PoolPages => (ulong)PoolChunks * SgzAbi.PagesPerChunk;

    /// <summary>Zone offset just past Z.data: the end of the zone offset space.</summary>
    public ulong End => ZoneSize + DataFileSize;

    /// <summary>Z.data's first bytes, as zone offsets: its header chunks.</summary>
    public ZoneRegion HeaderRegion => new(ZoneSize, (ulong)HeaderChunks * ChunkSize);

    public ulong GroupCount => (ChunkCount + GroupChunks - 1) / GroupChunks;

    /// <summary>The chunks a page of <paramref name="kind"/> comes from: [start, end) chunk indexes.</summary>
    public (ulong Start, ulong End) ChunkRange(PageKind kind) => kind == PageKind.Pool ? (0, PoolChunks) : (FirstDataChunk, ChunkCount);

    /// <summary>Group <paramref name="group"/>'s data chunks (possibly none): group ownership is about data chunks only.</summary>
    public (ulong Start, ulong Count) GroupDataChunks(ulong group)
    {
        ulong start = Math.Max(group * GroupChunks, FirstDataChunk);
        ulong end = Math.Min((group + 1) * GroupChunks, ChunkCount);
        return end > start ? (start, end - start) : (start, 0);
    }

    /// <summary>Whether chunk-space page <paramref name="page"/> is in the structure pool.</summary>
    public bool IsPoolPage(ulong page) => page < PoolPages;

    /// <summary>Whether chunk-space page <paramref name="page"/> is in the data chunks.</summary>
    public bool IsFileDataPage(ulong page) => page >= FirstDataChunk * SgzAbi.PagesPerChunk && page < DataPages;

    /// <summary>The regions in superblock order, with the names the superblock and docs use.</summary>
    public IEnumerable<(string Name, ZoneRegion Region)> Regions =>
    [
        ("journal", Journal), ("peer_table", PeerTable), ("lock_table", LockTable), ("rings", Rings),
        ("inode_bitmap", InodeBitmap), ("page_bitmap", PageBitmap), ("chunk_usage", ChunkUsage),
        ("group_owner", GroupOwner), ("inode_table", InodeTable), ("data", Data), ("hints", Hints),
        .. GraceRegions,
    ];

    /// <summary>The grace period's regions, in zone order.</summary>
    private IEnumerable<(string Name, ZoneRegion Region)> GraceRegions =>
        [("grace_pages", GracePages), ("grace_epochs", GraceEpochs), ("inval_log", InvalLog)];

    /// <summary>The regions that lie in Z before the chunk space, in zone order.</summary>
    private IEnumerable<(string Name, ZoneRegion Region)> StructureRegions =>
    [
        ("journal", Journal), ("peer_table", PeerTable), ("lock_table", LockTable), ("rings", Rings),
        ("inode_bitmap", InodeBitmap), ("page_bitmap", PageBitmap), ("chunk_usage", ChunkUsage),
        ("group_owner", GroupOwner), ("inode_table", InodeTable), .. GraceRegions,
    ];

    /// <summary>Checks that a data file size is one a zone can have: a power of two in [16 MiB, 1 TiB].</summary>
    public static void CheckSize(ulong size)
    {
        if (size < MinSize || size > MaxSize || !BitOperations.IsPow2(size))
        {
            throw new ZoneException(ZoneError.InvalidArgument,
                $"zone size {Units.Bytes(size)} must be a power of two from {Units.Bytes(MinSize)} to {Units.Bytes(MaxSize)} (QEMU maps each zone file as a PCI BAR, whose size must be a power of two)");
        }
    }

    /// <summary>
    /// The layout a new zone whose data file holds <paramref name="dataFileSize"/> bytes gets:
    /// the structure file is the smallest power of two from 16 MiB that holds the fixed
    /// regions and a pool of at least max(size / SGZ_POOL_DIVISOR, SGZ_POOL_MIN_CHUNKS chunks);
    /// the pool is every whole chunk of Z after the fixed regions.
    /// </summary>
    public static ZoneGeometry ForSize(ulong dataFileSize)
    {
        CheckSize(dataFileSize);
        ulong size = dataFileSize;
        uint maxPeers = (uint)Math.Clamp(size >> 20, 8, 256);
        uint lockSlots = (uint)Math.Clamp(size >> 16, 1024, 65536);
        ulong inodes = Math.Min(Math.Max(SgzAbi.MinInodes, size / SgzAbi.BytesPerInode), uint.MaxValue);
        ulong minPool = Math.Max(size / SgzAbi.PoolDivisor / ChunkSize, SgzAbi.PoolMinChunks);

        // Z.data: the data header's page and the hints, rounded up to whole chunks.
        ulong hintBytes = Units.RoundUp(inodes * SgzAbi.HintSize, PageSize);
        ulong headerChunks = Math.Max(1, Units.RoundUp(PageSize + hintBytes, ChunkSize) / ChunkSize);
        ulong dataChunks = size / ChunkSize - headerChunks;

        for (ulong zoneSize = MinSize; ; zoneSize *= 2)
        {
            ulong cursor = PageSize; // page 0: the superblock
            ZoneRegion Next(ulong bytes)
            {
                var region = new ZoneRegion(cursor, Units.RoundUp(bytes, PageSize));
                cursor = region.End;
                return region;
            }

            // The bitmaps are sized for the most chunks this Z could have (a pool filling all of it).
            ulong maxChunks = (zoneSize / ChunkSize) + (size / ChunkSize);
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
            var gracePages = Next(maxChunks * SgzAbi.PagesPerChunk / 8);
            var graceEpochs = Next(maxChunks * 8);
            var invalLog = Next(InvalLogBytes);
            ulong dataOffset = Units.RoundUp(cursor, ChunkSize);
            if (dataOffset > zoneSize || (zoneSize - dataOffset) / ChunkSize < minPool)
            {
                continue;
            }

            ulong pool = (zoneSize - dataOffset) / ChunkSize;
            ulong chunks = pool + headerChunks + dataChunks;
            return new ZoneGeometry
            {
                ZoneSize = zoneSize,
                DataFileSize = size,
                InodeCount = inodes,
                ChunkCount = chunks,
                PoolChunks = (uint)pool,
                HeaderChunks = (uint)headerChunks,
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
                Hints = new ZoneRegion(zoneSize + PageSize, hintBytes),
                GracePages = gracePages,
                GraceEpochs = graceEpochs,
                InvalLog = invalLog,
            };
        }
    }

    /// <summary>
    /// Reads the geometry from a superblock that passed its magic, version and crc
    /// checks, and proves it safe to use: Z and Z.data of the sizes the superblock names,
    /// every region inside its file, aligned, in order, and large enough for the counts
    /// that index it; the chunk space = pool (ending at zone_size) + header chunks (holding
    /// the rings and hints) + data chunks (ending at the end of Z.data).
    /// </summary>
    public static ZoneGeometry FromSuperblock(in SgzSuperblock sb, ulong fileSize, ulong dataFileSize, string path)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new ZoneCorruptException($"{path}: superblock geometry is invalid: {what}");
            }
        }

        Require(sb.ZoneSize >= MinSize && sb.ZoneSize <= MaxSize && BitOperations.IsPow2(sb.ZoneSize),
            $"zone_size {sb.ZoneSize} is not a power of two in range");
        Require(sb.DataFileSize >= MinSize && sb.DataFileSize <= MaxSize && BitOperations.IsPow2(sb.DataFileSize),
            $"data_file_size {sb.DataFileSize} is not a power of two in range");
        Require(sb.ZoneSize == fileSize,
            $"zone_size is {Units.Bytes(sb.ZoneSize)} but the file holds {Units.Bytes(fileSize)}");
        Require(sb.PageSize == SgzAbi.PageSize && sb.ChunkSize == SgzAbi.ChunkSize
                && sb.InodeSize == SgzAbi.InodeSize && sb.DirentSize == SgzAbi.DirentSize,
            "page, chunk, inode or dirent size differs from this format's");
        Require(sb.InodeCount >= 2 && sb.InodeCount <= uint.MaxValue, $"inode_count {sb.InodeCount}");
        Require(sb.GroupChunks >= 1 && sb.GroupChunks <= 4096 && BitOperations.IsPow2(sb.GroupChunks),
            $"group_chunks {sb.GroupChunks}");
        Require(sb.MaxPeers >= 1 && sb.MaxPeers <= 65536, $"max_peers {sb.MaxPeers}");
        Require(sb.RingBytes % PageSize == 0 && sb.RingBytes >= SgzAbi.RingBytes && sb.RingBytes <= 1 << 24, $"ring_bytes {sb.RingBytes}");
        Require(sb.LockSlots <= 1 << 24, $"lock_slots {sb.LockSlots}");
        Require(sb.RootIno == SgzAbi.RootIno, $"root_ino {sb.RootIno}");
        Require(sb.PoolChunks >= 1 && (ulong)sb.PoolChunks * ChunkSize < sb.ZoneSize, $"pool_chunks {sb.PoolChunks}");
        Require(sb.HeaderChunks >= 1 && (ulong)sb.HeaderChunks * ChunkSize < sb.DataFileSize, $"header_chunks {sb.HeaderChunks}");

        var g = new ZoneGeometry
        {
            ZoneSize = sb.ZoneSize,
            DataFileSize = sb.DataFileSize,
            InodeCount = sb.InodeCount,
            ChunkCount = sb.ChunkCount,
            PoolChunks = sb.PoolChunks,
            HeaderChunks = sb.HeaderChunks,
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
            Hints = new(sb.Hints.Offset, sb.Hints.Size),
            GracePages = new(sb.GracePages.Offset, sb.GracePages.Size),
            GraceEpochs = new(sb.GraceEpochs.Offset, sb.GraceEpochs.Size),
            InvalLog = new(sb.InvalLog.Offset, sb.InvalLog.Size),
        };

        foreach (var (name, region) in g.Regions)
        {
            Require(region.Offset % PageSize == 0 && region.Size % PageSize == 0,
                $"region {name} at 0x{region.Offset:x} (+0x{region.Size:x}) is not page aligned");
        }

        ulong poolBytes = (ulong)g.PoolChunks * ChunkSize;
        ulong previousEnd = PageSize;
        foreach (var (name, region) in g.StructureRegions)
        {
            Require(region.Offset >= previousEnd && region.Size <= sb.ZoneSize - poolBytes && region.Offset <= sb.ZoneSize - poolBytes - region.Size,
                $"region {name} at 0x{region.Offset:x} (+0x{region.Size:x}) overlaps another or leaves the structure file before the pool");
            previousEnd = region.End;
        }

        // The chunk space: pool_chunks ending exactly at zone_size, then all of Z.data.
        Require(g.Data.Offset == sb.ZoneSize - poolBytes, $"data region at 0x{g.Data.Offset:x} does not start pool_chunks before zone_size");
        Require(g.ChunkCount == g.PoolChunks + (sb.DataFileSize / ChunkSize), $"chunk_count {g.ChunkCount} is not pool_chunks + the data file's chunks");
        Require(g.Data.Size == g.ChunkCount * ChunkSize, "data size does not match chunk_count");
        Require(g.ChunkCount > g.FirstDataChunk, "no data chunks");

        // The hints inside Z.data's header chunks, after the data header's page (the rings are a structure region: above).
        var header = g.HeaderRegion;
        Require(g.Hints.Offset >= header.Offset + PageSize && header.Contains(g.Hints.Offset, g.Hints.Size),
            $"hints at 0x{g.Hints.Offset:x} (+0x{g.Hints.Size:x}) are not inside the header chunks after the data header");

        Require(g.Journal.Size >= SgzAbi.JournalMinSize, "journal smaller than the minimum");
        Require(g.PeerTable.Size >= (ulong)g.MaxPeers * SgzAbi.PeerSize, "peer_table too small for max_peers");
        Require(g.LockTable.Size >= (ulong)g.LockSlots * SgzAbi.LockSize, "lock_table too small for lock_slots");
        Require(g.Rings.Size >= (ulong)g.MaxPeers * g.RingBytes, "rings too small for max_peers");
        Require(g.Hints.Size / SgzAbi.HintSize >= g.InodeCount, "hints too small for inode_count");
        Require(g.InodeBitmap.Size * 8 >= g.InodeCount, "inode_bitmap too small for inode_count");
        Require(g.InodeTable.Size / SgzAbi.InodeSize >= g.InodeCount, "inode_table too small for inode_count");
        Require(g.PageBitmap.Size * 8 >= g.DataPages, "page_bitmap too small for chunk_count");
        Require(g.ChunkUsage.Size / 2 >= g.ChunkCount, "chunk_usage too small for chunk_count");
        Require(g.GroupOwner.Size / 2 >= g.GroupCount, "group_owner too small for the group count");
        Require(g.GracePages.Size * 8 >= g.DataPages && g.GraceEpochs.Size / 8 >= g.ChunkCount && g.InvalLog.Size >= InvalLogBytes,
            "grace_pages, grace_epochs or inval_log too small");
        Require(dataFileSize == sb.DataFileSize,
            $"data_file_size is {Units.Bytes(sb.DataFileSize)} but {ZoneFiles.DataPath(path)} holds {Units.Bytes(dataFileSize)}");
        return g;
    }

    /// <summary>Writes the geometry into a superblock being formatted.</summary>
    public void WriteTo(ref SgzSuperblock sb)
    {
        sb.ZoneSize = ZoneSize;
        sb.DataFileSize = DataFileSize;
        sb.PageSize = SgzAbi.PageSize;
        sb.ChunkSize = SgzAbi.ChunkSize;
        sb.InodeSize = SgzAbi.InodeSize;
        sb.DirentSize = SgzAbi.DirentSize;
        sb.InodeCount = InodeCount;
        sb.ChunkCount = ChunkCount;
        sb.PoolChunks = PoolChunks;
        sb.HeaderChunks = HeaderChunks;
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
        sb.Hints = Hints.ToAbi();
        sb.GracePages = GracePages.ToAbi();
        sb.GraceEpochs = GraceEpochs.ToAbi();
        sb.InvalLog = InvalLog.ToAbi();
    }

    /// <summary>Zone offset of chunk-space page <paramref name="page"/>.</summary>
    public ulong PageOffset(ulong page) => Data.Offset + (page * PageSize);

    /// <summary>Chunk-space page index of a zone offset inside the chunk space.</summary>
    public ulong PageIndex(ulong zoneOffset) => (zoneOffset - Data.Offset) / PageSize;

    public ulong InodeOffset(ulong ino) => InodeTable.Offset + (ino * SgzAbi.InodeSize);

    /// <summary>Zone offset of inode <paramref name="ino"/>'s hint (in Z.data).</summary>
    public ulong HintOffset(ulong ino) => Hints.Offset + (ino * SgzAbi.HintSize);
}

/// <summary>Which chunks a page comes from: the structure pool in Z, or the data chunks of Z.data.</summary>
public enum PageKind
{
    /// <summary>Page-table nodes, directory pages, symlink targets.</summary>
    Pool,

    /// <summary>Regular files' data.</summary>
    Data,
}

/// <summary>A byte range of the zone.</summary>
public readonly record struct ZoneRegion(ulong Offset, ulong Size)
{
    public ulong End => Offset + Size;

    public bool Contains(ulong offset, ulong length) =>
        offset >= Offset && length <= Size && offset - Offset <= Size - length;

    public SgzRegion ToAbi() => new() { Offset = Offset, Size = Size };
}
