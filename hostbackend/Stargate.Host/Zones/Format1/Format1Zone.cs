using System.Numerics;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;
using static Stargate.Host.Zones.Format1.Format1Layout;

namespace Stargate.Host.Zones.Format1;

/// <summary>
/// A format 1 zone (one file, versions 1.0 to 1.2) opened as a read-only source for
/// `zone migrate`: the file is opened O_RDONLY and never written; a shared flock keeps a
/// format 1 writer (which takes the exclusive one) from starting while it is read. Open refuses
/// a zone that anything may still change: one a writer holds, whose journal holds an unfinished
/// change, or with a live guest. Every number from the superblock is checked, as the format 1
/// host checked it, before anything uses it (<see cref="Format1Walk"/> reads the tree).
/// </summary>
internal sealed class Format1Zone : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly ulong[] _regions = new ulong[2 * RegionNames.Length];

    private Format1Zone(string path, SafeFileHandle file)
    {
        Path = path;
        _file = file;
    }

    public string Path { get; }

    public string Version { get; private set; } = string.Empty;

    public ulong ZoneSize { get; private set; }

    public ulong InodeCount { get; private set; }

    public ulong ChunkCount { get; private set; }

    public uint MaxPeers { get; private set; }

    public uint RingBytes { get; private set; }

    public ulong RegionOffset(int region) => _regions[2 * region];

    public ulong RegionSize(int region) => _regions[(2 * region) + 1];

    public ulong DataOffset => RegionOffset(RegionData);

    public ulong DataPages => ChunkCount * PagesPerChunk;

    /// <summary>Opens and checks <paramref name="path"/>; throws a ZoneException with one line naming what is wrong.</summary>
    public static Format1Zone Open(string path)
    {
        var file = ZoneFile.Open(path, ZoneFile.Mode.Read);
        var zone = new Format1Zone(path, file);
        try
        {
            zone.TakeReaderLock();
            zone.CheckSuperblock();
            zone.CheckJournal();
            zone.CheckNoLiveGuests();
            return zone;
        }
        catch
        {
            zone.Dispose();
            throw;
        }
    }

    /// <summary>Reads exactly <paramref name="target"/>.Length bytes at <paramref name="offset"/>; a short read is a truncated zone.</summary>
    public void Read(ulong offset, Span<byte> target)
    {
        int done = 0;
        while (done < target.Length)
        {
            int n = RandomAccess.Read(_file, target[done..], (long)offset + done);
            if (n == 0)
            {
                throw new ZoneCorruptException($"{Path}: the file ends at {offset + (ulong)done}, inside the zone");
            }

            done += n;
        }
    }

    public void Dispose() => _file.Dispose();

    private void TakeReaderLock()
    {
        int fd = (int)_file.DangerousGetHandle();
        int errno = Sys.Expect(Libc.Flock(fd, Libc.LOCK_SH | Libc.LOCK_NB), "flock", Path, Errno.EWOULDBLOCK);
        if (errno == Errno.EWOULDBLOCK)
        {
            throw new ZoneException(ZoneError.Busy, $"{Path} is open for writing by {DescribeWriter()}; stop it first (zone migrate reads a zone nothing changes)");
        }
    }

    /// <summary>"pid 123 (stargate serve) since ...", from the superblock the writer wrote.</summary>
    private string DescribeWriter()
    {
        Span<byte> sb = stackalloc byte[SuperblockSize];
        if (RandomAccess.Read(_file, sb, 0) < SuperblockSize || U64(sb, 0) != Magic || U64(sb, SbWriterPid) == 0)
        {
            return "another process";
        }

        var cmd = sb.Slice(SbWriterCmd, WriterCmdLength);
        int end = cmd.IndexOf((byte)0);
        var since = DateTimeOffset.FromUnixTimeMilliseconds((long)(U64(sb, SbWriterSinceNs) / 1_000_000));
        return $"pid {U64(sb, SbWriterPid)} ({Encoding.UTF8.GetString(end < 0 ? cmd : cmd[..end])}) since {since:yyyy-MM-dd HH:mm:ss}Z";
    }

    private void CheckSuperblock()
    {
        Sys.Check(Libc.Fstat((int)_file.DangerousGetHandle(), out var status), "fstat", Path);
        if (status.Size < SuperblockSize)
        {
            throw new ZoneException(ZoneError.NotAZone, $"{Path} is not a Stargate zone (shorter than a superblock)");
        }

        Span<byte> sb = stackalloc byte[SuperblockSize];
        Read(0, sb);
        if (U64(sb, 0) != Magic)
        {
            throw new ZoneException(ZoneError.NotAZone, $"{Path} is not a Stargate zone (no STARGATE magic at offset 0)");
        }

        ushort major = U16(sb, SbVersionMajor);
        ushort minor = U16(sb, SbVersionMinor);
        Version = $"{major}.{minor}";
        if (major == SgzAbi.VersionMajor)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{Path} is already zone format {Version} (format {SgzAbi.VersionMajor}): nothing to migrate");
        }

        if (major != VersionMajor || minor > LastMinor)
        {
            throw new ZoneException(ZoneError.VersionUnsupported,
                $"{Path} has zone format {Version}; zone migrate reads format {VersionMajor}.0 to {VersionMajor}.{LastMinor} only");
        }

        uint crc = Crc32C.Compute(sb[..SbCrc]);
        if (crc != U32(sb, SbCrc) || U32(sb, SbSize) != SuperblockSize)
        {
            throw Corrupt($"superblock checksum mismatch at offset 0x{SbCrc:x} (stored 0x{U32(sb, SbCrc):x8}, computed 0x{crc:x8}) or size field {U32(sb, SbSize)}");
        }

        CheckGeometry(sb, (ulong)status.Size);
    }

    /// <summary>The format 1 host's ZoneGeometry.FromSuperblock rules, all of them.</summary>
    private void CheckGeometry(ReadOnlySpan<byte> sb, ulong fileSize)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw Corrupt($"superblock geometry is invalid: {what}");
            }
        }

        ZoneSize = U64(sb, SbZoneSize);
        InodeCount = U64(sb, SbInodeCount);
        ChunkCount = U64(sb, SbChunkCount);
        uint groupChunks = U32(sb, SbGroupChunks);
        MaxPeers = U32(sb, SbMaxPeers);
        RingBytes = U32(sb, SbRingBytes);
        uint lockSlots = U32(sb, SbLockSlots);
        Require(ZoneSize == fileSize, $"zone_size is {Units.Bytes(ZoneSize)} but the file holds {Units.Bytes(fileSize)}");
        Require(ZoneSize >= MinZoneSize && ZoneSize <= MaxZoneSize && BitOperations.IsPow2(ZoneSize), $"zone_size {ZoneSize} is not a power of two in range");
        Require(U32(sb, SbPageSize) == PageSize && U32(sb, SbChunkSize) == ChunkSize && U32(sb, SbInodeSize) == InodeRecordSize && U32(sb, SbDirentSize) == DirentRecordSize,
            "page, chunk, inode or dirent size differs from format 1's");
        Require(InodeCount >= 2 && InodeCount <= uint.MaxValue, $"inode_count {InodeCount}");
        Require(groupChunks >= 1 && groupChunks <= 4096 && BitOperations.IsPow2(groupChunks), $"group_chunks {groupChunks}");
        Require(MaxPeers >= 1 && MaxPeers <= 65536, $"max_peers {MaxPeers}");
        Require(RingBytes % PageSize == 0 && RingBytes <= 1 << 24, $"ring_bytes {RingBytes}");
        Require(lockSlots <= 1 << 24, $"lock_slots {lockSlots}");
        Require(U64(sb, SbRootIno) == RootIno, $"root_ino {U64(sb, SbRootIno)}");

        ulong previousEnd = PageSize;
        for (int r = 0; r < RegionNames.Length; r++)
        {
            ulong offset = _regions[2 * r] = U64(sb, SbRegions + (16 * r));
            ulong size = _regions[(2 * r) + 1] = U64(sb, SbRegions + (16 * r) + 8);
            Require(offset % PageSize == 0 && size % PageSize == 0, $"region {RegionNames[r]} at 0x{offset:x} (+0x{size:x}) is not page aligned");
            Require(offset >= previousEnd && size <= ZoneSize && offset <= ZoneSize - size, $"region {RegionNames[r]} at 0x{offset:x} (+0x{size:x}) overlaps another or leaves the zone");
            previousEnd = offset + size;
        }

        ulong groups = (ChunkCount + groupChunks - 1) / groupChunks;
        Require(RegionSize(RegionJournal) >= JournalMinSize, "journal smaller than the minimum");
        Require(RegionSize(RegionPeerTable) >= (ulong)MaxPeers * PeerSize, "peer_table too small for max_peers");
        Require(RegionSize(RegionLockTable) >= (ulong)lockSlots * LockSize, "lock_table too small for lock_slots");
        Require(RegionSize(RegionRings) == 0 || RegionSize(RegionRings) >= (ulong)MaxPeers * RingBytes, "rings too small for max_peers");
        Require(RegionSize(RegionInodeBitmap) * 8 >= InodeCount, "inode_bitmap too small for inode_count");
        Require(RegionSize(RegionInodeTable) / InodeRecordSize >= InodeCount, "inode_table too small for inode_count");
        Require(DataOffset % ChunkSize == 0, "data region not 2 MiB aligned");
        Require(ChunkCount >= 1 && RegionSize(RegionData) == ChunkCount * ChunkSize, "data size does not match chunk_count");
        Require(RegionSize(RegionPageBitmap) * 8 >= DataPages, "page_bitmap too small for chunk_count");
        Require(RegionSize(RegionChunkUsage) / 2 >= ChunkCount, "chunk_usage too small for chunk_count");
        Require(RegionSize(RegionGroupOwner) / 2 >= groups, "group_owner too small for the group count");
    }

    private void CheckJournal()
    {
        Span<byte> header = stackalloc byte[16];
        Read(RegionOffset(RegionJournal), header);
        if (U64(header, 0) != JournalMagic)
        {
            throw Corrupt($"the journal at 0x{RegionOffset(RegionJournal):x} has no journal magic");
        }

        if (U32(header, JournalState) != JournalIdle)
        {
            // Undoing it would mean writing the old zone, which migrate never does.
            throw new ZoneException(ZoneError.Busy,
                $"{Path}: the journal holds an unfinished change (its writer died mid-change); open it once with a format {VersionMajor} stargate (any writing command, or 'stargate zone fsck --repair') to undo it, then migrate");
        }
    }

    /// <summary>
    /// A guest still attached could write file data while it is copied. A peer slot marked live
    /// whose QEMU process still runs, or a guest without a service (ivshmem-plain, 1.1+) whose
    /// heartbeat moves, refuses the zone; a slot left live by a process that is gone is a dead peer.
    /// </summary>
    private void CheckNoLiveGuests()
    {
        var table = new byte[MaxPeers * (ulong)PeerSize];
        Read(RegionOffset(RegionPeerTable), table);
        for (int slot = 1; slot < MaxPeers; slot++)
        {
            var peer = table.AsSpan(slot * PeerSize, PeerSize);
            ulong pid = U64(peer, PeerPid);
            if (U32(peer, PeerState) == PeerLive && pid is > 0 and <= int.MaxValue && Directory.Exists($"/proc/{pid}"))
            {
                throw new ZoneException(ZoneError.Busy, $"{Path}: guest peer slot {slot} is live (its QEMU, pid {pid}, still runs); stop the guests that use the zone first");
            }
        }

        if (RegionSize(RegionRings) == 0 || RingBytes < 32)
        {
            return; // 1.0: no ring areas, so no plain guest claims
        }

        var claimed = new Dictionary<int, ulong>();
        Span<byte> head = stackalloc byte[32];
        for (int slot = 1; slot < MaxPeers; slot++)
        {
            Read(RegionOffset(RegionRings) + ((ulong)slot * RingBytes), head);
            ulong claim = U64(head, RingClaim);
            if (claim is not 0 and not ClaimHost)
            {
                claimed[slot] = U64(head, RingHeartbeat);
            }
        }

        if (claimed.Count == 0)
        {
            return;
        }

        Thread.Sleep(HeartbeatWatchMs);
        foreach (var (slot, heartbeat) in claimed)
        {
            Read(RegionOffset(RegionRings) + ((ulong)slot * RingBytes), head);
            if (U64(head, RingClaim) is not 0 and not ClaimHost && U64(head, RingHeartbeat) != heartbeat)
            {
                throw new ZoneException(ZoneError.Busy, $"{Path}: a guest without a service (ivshmem-plain) is attached at peer slot {slot} (its heartbeat moves); stop the guests that use the zone first");
            }
        }
    }

    public ZoneCorruptException Corrupt(string what) =>
        new($"{Path}: {what}; the zone is corrupt and nothing was migrated (check it with a format {VersionMajor} stargate's 'zone fsck')");
}
