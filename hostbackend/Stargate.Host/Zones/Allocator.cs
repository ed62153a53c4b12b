using System.Numerics;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Space allocation in the chunk space, from one of two kinds of chunks: the structure pool
/// at the end of Z (page-table nodes, directory pages, symlink targets) and the data chunks
/// of Z.data (regular files' data); running out of one is ENOSPC even if the other has room.
/// The header chunks between them are always in use. A page bitmap (bit per 4 KiB page) is
/// the truth; chunk_usage counts used pages per 2 MiB chunk so that free chunks
/// are found by scanning 16-bit counters. Chunks are grouped; a peer owns the
/// group it fills (pFS partitions), so two peers writing at once do not
/// interleave their chunks, and a file's next chunk is taken right after its
/// previous one when that one is free (no needless fragmentation).
/// </summary>
/// <remarks>
/// Invariants it owns: a page's bit, its chunk's usage count, the superblock's free_pages
/// (data pages only) and the group owners change together; a group is owned exactly while it holds a used
/// chunk; pages freed in a change stay taken (and unzeroed) until the change ends, so the
/// change cannot hand them out again, and are zeroed once it has committed. Called with the
/// zone's lock held, inside a change for everything that writes.
/// </remarks>
internal sealed class Allocator(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, PeerTable peers) : IChangeParticipant
{
    public const ulong NoChunk = ulong.MaxValue;

    /// <summary>Pages freed by the change in progress, and the file whose data they were (null: a node): released when its body is done.</summary>
    private readonly List<(ulong FirstPage, ulong Count, NodeRef? File)> _deferred = [];

    /// <summary>The grace period that holds freed file data (null until the zone sets it, or disabled while the log's header is unsound: freed at once).</summary>
    public GracePeriod? Grace { get; set; }

    public ReadOnlySpan<ushort> ChunkUsage => memory.Span<ushort>(geometry.ChunkUsage.Offset, geometry.ChunkCount);

    public ReadOnlySpan<ushort> GroupOwners => memory.Span<ushort>(geometry.GroupOwner.Offset, geometry.GroupCount);

    public ReadOnlySpan<ulong> PageBitmap => memory.Span<ulong>(geometry.PageBitmap.Offset, (geometry.DataPages + 63) / 64);

    public bool IsPageUsed(ulong page) => ((PageBitmap[(int)(page / 64)] >> (int)(page % 64)) & 1) != 0;

    /// <summary>Takes a whole 2 MiB chunk of <paramref name="kind"/> for <paramref name="slot"/>, preferring <paramref name="goal"/>; returns its index.</summary>
    public ulong AllocateChunk(int slot, ulong goal, PageKind kind)
    {
        ulong chunk = FindFreeChunk(slot, goal, kind);
        if (chunk == NoChunk)
        {
            throw kind == PageKind.Data
                ? new ZoneException(ZoneError.NoSpace, $"{path}: no free 2 MiB chunk left ({Units.Bytes(memory.Ref<SgzSuperblock>(0).FreePages * ZoneGeometry.PageSize)} free in scattered pages)")
                : NoSpace(kind);
        }

        SetPages(chunk * SgzAbi.PagesPerChunk, SgzAbi.PagesPerChunk, used: true);
        return chunk;
    }

    /// <summary>Takes one 4 KiB page of <paramref name="kind"/> for <paramref name="slot"/>, preferring <paramref name="goal"/>; returns its index.</summary>
    public ulong AllocatePage(int slot, ulong goal, PageKind kind)
    {
        var usage = ChunkUsage;
        var (start, end) = geometry.ChunkRange(kind);
        ulong page = NoChunk;
        if (goal >= start * SgzAbi.PagesPerChunk && goal < end * SgzAbi.PagesPerChunk && !IsPageUsed(goal) && OwnedOrFree(slot, goal / SgzAbi.PagesPerChunk))
        {
            page = goal;
        }

        if (page == NoChunk && kind == PageKind.Pool)
        {
            // The pool is not partitioned: fill partly used chunks first, then take an empty one.
            var pool = usage[..(int)end];
            int chunk = pool.IndexOfAnyInRange((ushort)1, (ushort)(SgzAbi.PagesPerChunk - 1));
            chunk = chunk >= 0 ? chunk : pool.IndexOf((ushort)0);
            if (chunk < 0)
            {
                throw NoSpace(kind);
            }

            page = FirstFreePage((ulong)chunk);
        }

        if (page == NoChunk)
        {
            ref var peer = ref peers.Record(slot);
            ulong current = peer.PageChunk - 1UL;
            if (peer.PageChunk == 0 || current < start || current >= end || usage[(int)current] >= SgzAbi.PagesPerChunk
                || !OwnedOrFree(slot, current))
            {
                current = FindFreeChunk(slot, NoChunk, kind);
                if (current == NoChunk)
                {
                    int partial = usage[(int)start..(int)end].IndexOfAnyInRange((ushort)1, (ushort)(SgzAbi.PagesPerChunk - 1));
                    current = partial < 0 ? NoChunk : start + (ulong)partial;
                }

                if (current == NoChunk)
                {
                    throw NoSpace(kind);
                }

                peers.ForWrite(slot).PageChunk = (uint)(current + 1);
            }

            page = FirstFreePage(current);
        }

        SetPages(page, 1, used: true);
        return page;
    }

    /// <summary>
    /// Frees pages at the end of the current change (they stay taken, and unzeroed, until then).
    /// Data pages of <paramref name="file"/> go to the grace period instead, when the zone has one.
    /// </summary>
    public void FreePages(ulong firstPage, ulong count, NodeRef? file = null)
    {
        if (count == 0)
        {
            return;
        }

        if (firstPage >= geometry.DataPages || count > geometry.DataPages - firstPage)
        {
            throw new ZoneCorruptException($"{path}: free of data pages {firstPage}+{count} lies outside the data region");
        }

        _deferred.Add((firstPage, count, file));
    }

    /// <summary>Inside a change: frees pages the grace period held (they are in use until now).</summary>
    public void ReleaseHeld(ulong firstPage, ulong count)
    {
        SetPages(firstPage, count, used: false);
        writer.ZeroAfterCommit(new ZoneRegion(geometry.PageOffset(firstPage), count * ZoneGeometry.PageSize));
    }

    void IChangeParticipant.BeforeCommit()
    {
        // With no guest live and no mapping client of serve nobody can map the pages: they are freed at once.
        bool grace = _deferred.Count > 0 && Grace?.Enabled == true && (peers.LiveGuests().Count > 0 || Grace.HasHostMappers);
        var held = new List<(ulong FirstPage, ulong Count)>();
        var files = new HashSet<NodeRef>();
        foreach (var (first, count, file) in _deferred)
        {
            if (grace && file is { } f && geometry.IsFileDataPage(first))
            {
                held.Add((first, count));
                files.Add(f);
                continue;
            }

            ReleaseHeld(first, count);
        }

        _deferred.Clear();
        if (held.Count > 0)
        {
            Grace!.Hold(files, held);
        }
    }

    void IChangeParticipant.AfterAbandon() => _deferred.Clear();

    private ZoneException NoSpace(PageKind kind) => kind == PageKind.Pool
        ? new ZoneException(ZoneError.NoSpace, $"{path}: the structure pool is full ({geometry.PoolChunks} chunks of 2 MiB for page tables, directories and symlinks)")
        : new ZoneException(ZoneError.NoSpace, $"{path}: no space left in the zone");

    /// <summary>Pool chunks belong to nobody; a data chunk is free to take if its group is unowned or the peer's.</summary>
    private bool OwnedOrFree(int slot, ulong chunk)
    {
        if (chunk < geometry.FirstDataChunk)
        {
            return true;
        }

        ushort owner = GroupOwners[(int)(chunk / geometry.GroupChunks)];
        return owner == 0 || owner == slot + 1;
    }

    /// <summary>
    /// A chunk with no used page: the goal if it is free and not another peer's;
    /// else one in the peer's group; else the first wholly free, unowned group,
    /// which the peer then owns; else any free chunk at all.
    /// </summary>
    private ulong FindFreeChunk(int slot, ulong goal, PageKind kind)
    {
        var usage = ChunkUsage;
        var owners = GroupOwners;
        var (start, end) = geometry.ChunkRange(kind);
        if (goal >= start && goal < end && usage[(int)goal] == 0 && OwnedOrFree(slot, goal))
        {
            return kind == PageKind.Pool ? goal : Claim(slot, goal);
        }

        if (kind == PageKind.Pool)
        {
            int free = usage[..(int)end].IndexOf((ushort)0);
            return free < 0 ? NoChunk : (ulong)free;
        }

        ref var peer = ref peers.Record(slot);
        ulong group = peer.AllocGroup - 1UL;
        if (peer.AllocGroup != 0 && group < geometry.GroupCount && owners[(int)group] == slot + 1)
        {
            int i = GroupSlice(usage, group).IndexOf((ushort)0);
            if (i >= 0)
            {
                return Claim(slot, geometry.GroupDataChunks(group).Start + (ulong)i);
            }
        }

        for (ulong g = start / geometry.GroupChunks; g < geometry.GroupCount; g++)
        {
            var slice = GroupSlice(usage, g);
            if (owners[(int)g] == 0 && slice.Length > 0 && !slice.ContainsAnyExcept((ushort)0))
            {
                return Claim(slot, geometry.GroupDataChunks(g).Start);
            }
        }

        int any = usage[(int)start..(int)end].IndexOf((ushort)0);
        return any < 0 ? NoChunk : start + (ulong)any;
    }

    /// <summary>The usage counters of group <paramref name="group"/>'s data chunks.</summary>
    private ReadOnlySpan<ushort> GroupSlice(ReadOnlySpan<ushort> usage, ulong group)
    {
        var (start, count) = geometry.GroupDataChunks(group);
        return usage.Slice((int)start, (int)count);
    }

    private ulong Claim(int slot, ulong chunk)
    {
        ulong group = chunk / geometry.GroupChunks;
        if (GroupOwners[(int)group] == 0)
        {
            writer.U16ForWrite(geometry.GroupOwner.Offset + (group * 2)) = (ushort)(slot + 1);
            peers.ForWrite(slot).AllocGroup = (uint)(group + 1);
        }

        return chunk;
    }

    private ulong FirstFreePage(ulong chunk)
    {
        var words = PageBitmap.Slice((int)(chunk * 8), 8);
        for (int w = 0; w < 8; w++)
        {
            if (words[w] != ulong.MaxValue)
            {
                return (chunk * SgzAbi.PagesPerChunk) + (ulong)(w * 64) + (ulong)BitOperations.TrailingZeroCount(~words[w]);
            }
        }

        throw new ZoneCorruptException($"{path}: chunk {chunk} counts {ChunkUsage[(int)chunk]} used pages but its bitmap is full");
    }

    /// <summary>Sets or clears page bits, keeping chunk_usage, free_pages and group ownership in step (runs never cross a chunk kind: 64-page words and chunks are within one).</summary>
    private void SetPages(ulong first, ulong count, bool used)
    {
        ulong end = first + count;
        long delta = 0;
        for (ulong page = first; page < end;)
        {
            ulong word = page / 64;
            int bit = (int)(page % 64);
            int n = (int)Math.Min(64 - (ulong)bit, end - page);
            ulong mask = (n == 64 ? ulong.MaxValue : ((1UL << n) - 1)) << bit;
            ref ulong w = ref writer.U64ForWrite(geometry.PageBitmap.Offset + (word * 8));
            ulong already = w & mask;
            if (used ? already != 0 : already != mask)
            {
                throw new ZoneCorruptException(
                    $"{path}: data page {page + (ulong)BitOperations.TrailingZeroCount(used ? already : ~already & mask) - (ulong)bit} is already {(used ? "in use" : "free")} (two owners, or a double free)");
            }

            w = used ? w | mask : w & ~mask;
            AdjustChunkUsage(page / SgzAbi.PagesPerChunk, used ? n : -n);
            delta += geometry.IsFileDataPage(page) ? n : 0; // free_pages counts data pages only
            page += (ulong)n;
        }

        ref var sb = ref writer.SuperblockForWrite();
        sb.FreePages = used ? sb.FreePages - (ulong)delta : sb.FreePages + (ulong)delta;
    }

    private void AdjustChunkUsage(ulong chunk, int delta)
    {
        ref ushort usage = ref writer.U16ForWrite(geometry.ChunkUsage.Offset + (chunk * 2));
        usage = (ushort)(usage + delta);
        if (usage == 0 && chunk >= geometry.FirstDataChunk)
        {
            ulong group = chunk / geometry.GroupChunks;
            if (GroupOwners[(int)group] != 0 && !GroupSlice(ChunkUsage, group).ContainsAnyExcept((ushort)0))
            {
                writer.U16ForWrite(geometry.GroupOwner.Offset + (group * 2)) = 0;
            }
        }
    }

    /// <summary>Recovery after a dead writer: zero every free page (punching whole free chunks).</summary>
    public void ZeroAllFreeSpace()
    {
        var usage = ChunkUsage;
        ulong runStart = NoChunk;
        for (ulong c = 0; c <= geometry.ChunkCount; c++)
        {
            bool free = c < geometry.ChunkCount && usage[(int)c] == 0;
            if (free && runStart == NoChunk)
            {
                runStart = c;
            }
            else if (!free && runStart != NoChunk)
            {
                writer.ZeroRange(geometry.PageOffset(runStart * SgzAbi.PagesPerChunk), (c - runStart) * ZoneGeometry.ChunkSize);
                runStart = NoChunk;
            }

            if (c < geometry.ChunkCount && usage[(int)c] is > 0 and < SgzAbi.PagesPerChunk)
            {
                for (ulong p = c * SgzAbi.PagesPerChunk; p < (c + 1) * SgzAbi.PagesPerChunk; p++)
                {
                    if (!IsPageUsed(p))
                    {
                        writer.ZeroRange(geometry.PageOffset(p), ZoneGeometry.PageSize);
                    }
                }
            }
        }
    }
}
