using System.Buffers.Binary;

namespace Stargate.Host.Zones.Format1;

/// <summary>
/// The few records of zone format 1 (1.0 .. 1.2, one file) that `zone migrate` reads, with the
/// offsets of stargate_zone.h as of commit 4d716a7 (`git show 4d716a7:interop/include/stargate_zone.h`).
/// Format 1 is frozen: these numbers never change, and the format 2 mirror (SgzAbi) is not used
/// for them, since format 2 moved or resized some of the same fields. Little-endian throughout.
/// </summary>
/// <remarks>
/// Superblock (512 bytes at offset 0; crc32c over 0..379 at 380):
///   0 magic u64, 8 version_major u16, 10 version_minor u16, 12 sb_size u32, 16 zone_size u64,
///  48 page_size, chunk_size, inode_size, dirent_size u32, 64 inode_count u64, 72 chunk_count u64,
///  80 group_chunks, max_peers, ring_bytes, lock_slots u32, 96 regions 10 x {offset, size u64},
/// 256 root_ino u64, 380 crc u32, 408 flags u32, 424 writer_pid u64, 432 writer_since_ns u64,
/// 440 writer_cmd[32].
/// Inode (256 bytes; crc32c over 0..123 at 124): 0 mode, 4 uid, 8 gid, 12 nlink, 16 generation
/// u32, 24 parent u64, 32 pt_root u64, 40 pt_depth u8, 48 pages u64, 64 rdev u64, 128 seq u32,
/// 136 size, 144 mtime_ns, 152 ctime_ns, 160 atime_ns u64.
/// Directory page (4 KiB): a 64-byte header, then 14 entries of 288 bytes: 0 ino u64,
/// 8 generation u32, 12 hash u32 (crc32c of the name), 16 name_len u8, 17 type u8, 24 name[256],
/// 284 crc u32 over 0..283.
/// Page-table node (4 KiB): 512 u64 entries, bit 0 present, bit 7 a 2 MiB leaf (PMD level only),
/// bits 12..51 a zone offset. Journal header: 0 magic u64, 8 state u32. Peer (128 bytes): 0 state
/// u32, 8 pid u64. A ring area (1.1+): 16 claim u64, 24 heartbeat u64.
/// </remarks>
internal static class Format1Layout
{
    public const ulong Magic = 0x4554414752415453UL; // "STARGATE"
    public const ushort VersionMajor = 1;
    public const ushort LastMinor = 2;

    public const ulong PageSize = 4096;
    public const ulong ChunkSize = 2UL << 20;
    public const ulong PagesPerChunk = 512;
    public const ulong MinZoneSize = 1UL << 24;
    public const ulong MaxZoneSize = 1UL << 40;
    public const ulong FileSizeMax = 1UL << 48;
    public const ulong RootIno = 1;
    public const int NameMax = 255;
    public const ulong SymlinkMax = 768;
    public const int PtMaxDepth = 4;
    public const int PtEntries = 512;

    public const int SuperblockSize = 512;
    public const int SbVersionMajor = 8;
    public const int SbVersionMinor = 10;
    public const int SbSize = 12;
    public const int SbZoneSize = 16;
    public const int SbPageSize = 48;
    public const int SbChunkSize = 52;
    public const int SbInodeSize = 56;
    public const int SbDirentSize = 60;
    public const int SbInodeCount = 64;
    public const int SbChunkCount = 72;
    public const int SbGroupChunks = 80;
    public const int SbMaxPeers = 84;
    public const int SbRingBytes = 88;
    public const int SbLockSlots = 92;
    public const int SbRegions = 96;
    public const int SbRootIno = 256;
    public const int SbCrc = 380;
    public const int SbWriterPid = 424;
    public const int SbWriterSinceNs = 432;
    public const int SbWriterCmd = 440;
    public const int WriterCmdLength = 32;

    /// <summary>The superblock's regions, in zone order, by their index in the regions array.</summary>
    public static readonly string[] RegionNames =
        ["journal", "peer_table", "lock_table", "rings", "inode_bitmap", "page_bitmap", "chunk_usage", "group_owner", "inode_table", "data"];

    public const int RegionJournal = 0;
    public const int RegionPeerTable = 1;
    public const int RegionLockTable = 2;
    public const int RegionRings = 3;
    public const int RegionInodeBitmap = 4;
    public const int RegionPageBitmap = 5;
    public const int RegionChunkUsage = 6;
    public const int RegionGroupOwner = 7;
    public const int RegionInodeTable = 8;
    public const int RegionData = 9;

    public const int InodeRecordSize = 256;
    public const int InodeMode = 0;
    public const int InodeUid = 4;
    public const int InodeGid = 8;
    public const int InodeNlink = 12;
    public const int InodeGeneration = 16;
    public const int InodeParent = 24;
    public const int InodePtRoot = 32;
    public const int InodePtDepth = 40;
    public const int InodePages = 48;
    public const int InodeRdev = 64;
    public const int InodeCrc = 124;
    public const int InodeSeq = 128;
    public const int InodeFileSize = 136;
    public const int InodeMtimeNs = 144;
    public const int InodeCtimeNs = 152;
    public const int InodeAtimeNs = 160;

    public const int DirPageHeader = 64;
    public const int DirentsPerPage = 14;
    public const int DirentRecordSize = 288;
    public const int DirentIno = 0;
    public const int DirentGeneration = 8;
    public const int DirentHash = 12;
    public const int DirentNameLen = 16;
    public const int DirentType = 17;
    public const int DirentName = 24;
    public const int DirentCrc = 284;

    public const ulong PtePresent = 0x1;
    public const ulong PteHuge = 0x80;
    public const ulong PteAddrMask = 0x000ffffffffff000UL;
    public const ulong PmdAddrMask = 0x000fffffffe00000UL;

    public const ulong JournalMinSize = 262144;
    public const ulong JournalMagic = 0x4c4e524a5a475353UL;
    public const int JournalState = 8;
    public const uint JournalIdle = 0;

    public const int LockSize = 64;
    public const int PeerSize = 128;
    public const int PeerState = 0;
    public const int PeerPid = 8;
    public const uint PeerLive = 1;
    public const int RingClaim = 16;
    public const int RingHeartbeat = 24;
    public const ulong ClaimHost = ulong.MaxValue;

    /// <summary>How long a plain guest may leave its heartbeat still (the 1.1 header's SGZ_CLAIM_HEARTBEAT_MS is 100).</summary>
    public const int HeartbeatWatchMs = 350;

    public const uint SIfmt = 0xf000;
    public const uint SIfsock = 0xc000;
    public const uint SIflnk = 0xa000;
    public const uint SIfreg = 0x8000;
    public const uint SIfblk = 0x6000;
    public const uint SIfdir = 0x4000;
    public const uint SIfchr = 0x2000;
    public const uint SIfifo = 0x1000;

    /// <summary>The directory entry type (Linux DT_*) of an inode type, 0 for none.</summary>
    public static byte TypeOf(uint mode) => (mode & SIfmt) switch
    {
        SIfifo => 1,
        SIfchr => 2,
        SIfdir => 4,
        SIfblk => 6,
        SIfreg => 8,
        SIflnk => 10,
        SIfsock => 12,
        _ => 0,
    };

    public static ulong U64(ReadOnlySpan<byte> record, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(record[offset..]);

    public static uint U32(ReadOnlySpan<byte> record, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(record[offset..]);

    public static ushort U16(ReadOnlySpan<byte> record, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(record[offset..]);
}
