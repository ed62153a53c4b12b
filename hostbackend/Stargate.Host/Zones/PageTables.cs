using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Shared page tables (layout in stargate_zone.h): a file's index is an x86-64
/// style tree whose frames are zone offsets. Level 1 entries map 4 KiB pages,
/// level 2 entries map a PTE node or, with SGZ_PTE_HUGE, a 2 MiB chunk; levels
/// 3 and 4 hold only nodes. Walks check every entry they follow, and the level
/// falls by one at each step, so a corrupt table cannot loop.
/// </summary>
/// <remarks>
/// Invariants it owns: every present entry points into the data region at its size's
/// alignment; an inode's pages count its leaves and its nodes; an empty table has depth 0
/// and no root. Called with the zone's lock held; everything that writes, inside a change.
/// </remarks>
internal sealed class PageTables(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, InodeTable inodes, Allocator allocator)
{
    private const ulong EntryFlags = SgzAbi.PtePresent | SgzAbi.PteWritable;

    /// <summary>Told, inside the change, of each inode whose pages the change allocates or frees: its mappings follow once it commits (ZoneFileMappings).</summary>
    public Action<ulong>? Changing { get; set; }

    public static ulong LevelSpan(int level) => ZoneGeometry.PageSize << (9 * (level - 1));

    public static ulong Capacity(int depth) => depth == 0 ? 0 : LevelSpan(depth) * SgzAbi.PtEntries;

    /// <summary>The extent holding <paramref name="fileOffset"/>: where it is in the zone and how far it runs.</summary>
    /// <summary>
    /// <see cref="Map"/> of an offset the caller has just allocated (Populate): a hole there
    /// means the inode changed under the change (a guest rewrote it), and is refused rather
    /// than read as zone offset 0.
    /// </summary>
    public Extent MapAllocated(ulong ino, in SgzInode inode, ulong fileOffset)
    {
        var extent = Map(ino, inode, fileOffset);
        return extent.IsHole
            ? throw new ZoneCorruptException($"{path}: inode {ino}: offset {fileOffset} is unmapped right after allocation")
            : extent;
    }

    public Extent Map(ulong ino, in SgzInode inode, ulong fileOffset)
    {
        int depth = inode.PtDepth;
        if (depth == 0 || fileOffset >= Capacity(depth))
        {
            return new Extent(0, ulong.MaxValue - fileOffset);
        }

        ulong node = CheckNode(ino, inode.PtRoot, geometry.InodeOffset(ino));
        for (int level = depth; level >= 1; level--)
        {
            ulong span = LevelSpan(level);
            ulong within = fileOffset % span;
            ulong at = node + ((fileOffset / span % SgzAbi.PtEntries) * 8);
            ulong e = memory.Ref<ulong>(at);
            if ((e & SgzAbi.PtePresent) == 0)
            {
                return new Extent(0, span - within);
            }

            if ((e & SgzAbi.PteHuge) != 0)
            {
                if (level != 2)
                {
                    throw BadEntry(ino, at, e, "has the huge bit below or above the PMD level");
                }

                return new Extent(CheckFrame(ino, at, e & SgzAbi.PmdAddrMask, ZoneGeometry.ChunkSize) + within, span - within);
            }

            if (level == 1)
            {
                return new Extent(CheckFrame(ino, at, e & SgzAbi.PteAddrMask, ZoneGeometry.PageSize) + within, span - within);
            }

            node = CheckNode(ino, e & SgzAbi.PteAddrMask, at);
        }

        throw new InvalidOperationException("unreachable: the walk ends at level 1");
    }

    /// <summary>
    /// Allocates whatever is missing in [start, end) of the file. Chunk c of the
    /// file gets a 2 MiB leaf when <paramref name="huge"/> says so for it, 4 KiB
    /// pages otherwise. Called inside a change; returns the pages it added.
    /// </summary>
    public ulong Populate(ulong ino, ulong start, ulong end, int slot, Func<ulong, bool> huge)
    {
        if (end <= start)
        {
            return 0;
        }

        if (end > Capacity(SgzAbi.PtMaxDepth))
        {
            throw new ZoneException(ZoneError.FileTooLarge, $"offset {end} is past the largest file a zone can index");
        }

        ulong added = 0;
        var kind = (inodes.Load(ino).Mode & SgzAbi.SIfmt) == SgzAbi.SIfreg ? PageKind.Data : PageKind.Pool;
        ulong goalChunk = Allocator.NoChunk;
        ulong goalPage = Allocator.NoChunk;
        var before = start == 0 ? new Extent(0, 0) : Map(ino, inodes.Load(ino), start - 1);
        if (!before.IsHole)
        {
            goalPage = geometry.PageIndex(before.ZoneOffset) + 1;
            goalChunk = goalPage / SgzAbi.PagesPerChunk + (goalPage % SgzAbi.PagesPerChunk == 0 ? 0UL : 1UL);
        }

        for (ulong chunk = start / ZoneGeometry.ChunkSize; chunk * ZoneGeometry.ChunkSize < end; chunk++)
        {
            ulong chunkStart = chunk * ZoneGeometry.ChunkSize;
            if (huge(chunk))
            {
                ulong entry = EntryForWrite(ino, chunkStart, 2, slot);
                ulong e = memory.Ref<ulong>(entry);
                if ((e & SgzAbi.PtePresent) == 0)
                {
                    ulong c = allocator.AllocateChunk(slot, goalChunk, kind);
                    ulong frame = geometry.PageOffset(c * SgzAbi.PagesPerChunk);
                    writer.U64ForWrite(entry) = frame | EntryFlags | SgzAbi.PteHuge;
                    inodes.ForWrite(ino).Pages += SgzAbi.PagesPerChunk;
                    added += SgzAbi.PagesPerChunk;
                    goalChunk = c + 1;
                    goalPage = (c + 1) * SgzAbi.PagesPerChunk;
                    continue;
                }

                if ((e & SgzAbi.PteHuge) != 0)
                {
                    goalChunk = geometry.PageIndex(e & SgzAbi.PmdAddrMask) / SgzAbi.PagesPerChunk + 1;
                    continue;
                }

                // The chunk already holds 4 KiB pages (the file was small once): fill it with pages.
            }
            else if (inodes.Load(ino).PtDepth >= 2)
            {
                ulong e = memory.Ref<ulong>(EntryForWrite(ino, chunkStart, 2, slot));
                if ((e & SgzAbi.PteHuge) != 0)
                {
                    continue;
                }
            }

            ulong from = Math.Max(start, chunkStart) / ZoneGeometry.PageSize;
            ulong to = (Math.Min(end, chunkStart + ZoneGeometry.ChunkSize) + ZoneGeometry.PageSize - 1) / ZoneGeometry.PageSize;
            for (ulong p = from; p < to; p++)
            {
                ulong entry = EntryForWrite(ino, p * ZoneGeometry.PageSize, 1, slot);
                ulong e = memory.Ref<ulong>(entry);
                if ((e & SgzAbi.PtePresent) != 0)
                {
                    goalPage = geometry.PageIndex(e & SgzAbi.PteAddrMask) + 1;
                    continue;
                }

                ulong page = allocator.AllocatePage(slot, goalPage, kind);
                writer.U64ForWrite(entry) = geometry.PageOffset(page) | EntryFlags;
                inodes.ForWrite(ino).Pages++;
                added++;
                goalPage = page + 1;
            }
        }

        if (added > 0)
        {
            Changing?.Invoke(ino);
        }

        return added;
    }

    /// <summary>
    /// Frees every page that lies wholly at or past <paramref name="from"/> (a 2 MiB
    /// leaf only if it starts there or later), then shrinks the tree. Inside a change.
    /// </summary>
    public void FreeFrom(ulong ino, ulong from) => FreeRange(ino, from, ulong.MaxValue);

    /// <summary>
    /// Frees every page that lies wholly inside [<paramref name="from"/>, <paramref name="to"/>)
    /// (a 2 MiB leaf only if all of it does), then shrinks the tree. Inside a change.
    /// </summary>
    public void FreeRange(ulong ino, ulong from, ulong to)
    {
        Changing?.Invoke(ino);
        var inode = inodes.Load(ino);
        if (inode.PtDepth == 0)
        {
            return;
        }

        ulong root = CheckNode(ino, inode.PtRoot, geometry.InodeOffset(ino));
        bool empty = FreeNode(new NodeRef(ino, inode.Generation), root, inode.PtDepth, 0, from, to);
        if (empty)
        {
            FreeNodePage(ino, root);
            ref var w = ref inodes.ForWrite(ino);
            w.PtRoot = 0;
            w.PtDepth = 0;
            return;
        }

        Collapse(ino);
    }

    private bool FreeNode(NodeRef file, ulong node, int level, ulong nodeBase, ulong from, ulong to)
    {
        ulong ino = file.Ino;
        ulong span = LevelSpan(level);
        bool empty = true;
        for (ulong i = 0; i < SgzAbi.PtEntries; i++)
        {
            ulong at = node + (i * 8);
            ulong e = memory.Ref<ulong>(at);
            if ((e & SgzAbi.PtePresent) == 0)
            {
                continue;
            }

            ulong entryBase = nodeBase + (i * span);
            bool wholly = entryBase >= from && (to == ulong.MaxValue || (entryBase < to && to - entryBase >= span));
            bool leaf = level == 1 || (e & SgzAbi.PteHuge) != 0;
            if (leaf)
            {
                if (!wholly)
                {
                    empty = false;
                    continue;
                }

                if ((e & SgzAbi.PteHuge) != 0 && level != 2)
                {
                    throw BadEntry(ino, at, e, "has the huge bit below or above the PMD level");
                }

                ulong size = level == 1 ? ZoneGeometry.PageSize : ZoneGeometry.ChunkSize;
                ulong frame = CheckFrame(ino, at, e & (level == 1 ? SgzAbi.PteAddrMask : SgzAbi.PmdAddrMask), size);
                allocator.FreePages(geometry.PageIndex(frame), size / ZoneGeometry.PageSize, file);
                inodes.ForWrite(ino).Pages -= size / ZoneGeometry.PageSize;
                writer.U64ForWrite(at) = 0;
                continue;
            }

            if (entryBase + span <= from || entryBase >= to)
            {
                empty = false;
                continue;
            }

            ulong child = CheckNode(ino, e & SgzAbi.PteAddrMask, at);
            if (FreeNode(file, child, level - 1, entryBase, from, to))
            {
                FreeNodePage(ino, child);
                writer.U64ForWrite(at) = 0;
            }
            else
            {
                empty = false;
            }
        }

        return empty;
    }

    /// <summary>
    /// Lowers the depth while only the root's first entry is used and it is a node: at most
    /// PtMaxDepth - 1 times, whatever depth the inode claims on each look.
    /// </summary>
    private void Collapse(ulong ino)
    {
        for (int step = 1; step < SgzAbi.PtMaxDepth; step++)
        {
            var inode = inodes.Load(ino);
            if (inode.PtDepth <= 1)
            {
                return;
            }

            ulong root = inode.PtRoot;
            ulong first = memory.Ref<ulong>(root);
            if ((first & SgzAbi.PtePresent) == 0 || (first & SgzAbi.PteHuge) != 0
                || memory.Span<ulong>(root + 8, SgzAbi.PtEntries - 1).ContainsAnyExcept(0UL))
            {
                return;
            }

            ulong child = CheckNode(ino, first & SgzAbi.PteAddrMask, root);
            FreeNodePage(ino, root);
            ref var w = ref inodes.ForWrite(ino);
            w.PtRoot = child;
            w.PtDepth--;
        }
    }

    /// <summary>The zone offset of the level-<paramref name="level"/> entry for a file offset, adding depth and nodes as needed.</summary>
    private ulong EntryForWrite(ulong ino, ulong fileOffset, int level, int slot)
    {
        var inode = inodes.Load(ino);
        int depth = inode.PtDepth;
        if (depth == 0)
        {
            // An empty table starts at the depth it needs: growing it level by level would
            // leave a PTE node under entry 0 where a 2 MiB leaf belongs.
            int needed = level;
            while (Capacity(needed) <= fileOffset)
            {
                needed++;
            }

            ulong root = AllocateNode(ino, slot);
            ref var fresh = ref inodes.ForWrite(ino);
            fresh.PtRoot = root;
            fresh.PtDepth = (byte)needed;
            depth = needed;
        }

        while (depth < level || Capacity(depth) <= fileOffset)
        {
            ulong newRoot = AllocateNode(ino, slot);
            ref var w = ref inodes.ForWrite(ino);
            if (depth > 0)
            {
                writer.U64ForWrite(newRoot) = w.PtRoot | EntryFlags;
            }

            w.PtRoot = newRoot;
            w.PtDepth = (byte)++depth;
        }

        ulong node = CheckNode(ino, inodes.Load(ino).PtRoot, geometry.InodeOffset(ino));
        for (int l = depth; ; l--)
        {
            ulong at = node + (fileOffset / LevelSpan(l) % SgzAbi.PtEntries * 8);
            if (l == level)
            {
                return at;
            }

            ulong e = memory.Ref<ulong>(at);
            if ((e & SgzAbi.PtePresent) == 0)
            {
                ulong child = AllocateNode(ino, slot);
                writer.U64ForWrite(at) = child | EntryFlags;
                node = child;
            }
            else if ((e & SgzAbi.PteHuge) != 0)
            {
                throw BadEntry(ino, at, e, "is a 2 MiB leaf where a table was needed");
            }
            else
            {
                node = CheckNode(ino, e & SgzAbi.PteAddrMask, at);
            }
        }
    }

    /// <summary>A zeroed page for a table node, charged to the inode.</summary>
    private ulong AllocateNode(ulong ino, int slot)
    {
        ulong offset = geometry.PageOffset(allocator.AllocatePage(slot, Allocator.NoChunk, PageKind.Pool));
        if (memory.Span(offset, ZoneGeometry.PageSize).ContainsAnyExcept((byte)0))
        {
            writer.BytesForWrite(offset, ZoneGeometry.PageSize).Clear();
        }

        inodes.ForWrite(ino).Pages++;
        return offset;
    }

    private void FreeNodePage(ulong ino, ulong node)
    {
        allocator.FreePages(geometry.PageIndex(node), 1);
        inodes.ForWrite(ino).Pages--;
    }

    private ulong CheckNode(ulong ino, ulong offset, ulong where)
    {
        CheckFrame(ino, where, offset, ZoneGeometry.PageSize);
        if (!geometry.IsPoolPage(geometry.PageIndex(offset)))
        {
            throw new ZoneCorruptException(
                $"{path}: inode {ino}: page-table entry at zone offset 0x{where:x} points to a table at 0x{offset:x}, outside the structure pool");
        }

        return offset;
    }

    private ulong CheckFrame(ulong ino, ulong where, ulong offset, ulong size)
    {
        if (offset % size != 0 || !geometry.Data.Contains(offset, size))
        {
            throw new ZoneCorruptException(
                $"{path}: inode {ino}: page-table entry at zone offset 0x{where:x} points to 0x{offset:x}, outside the data region or misaligned");
        }

        return offset;
    }

    private ZoneCorruptException BadEntry(ulong ino, ulong at, ulong e, string what) =>
        new($"{path}: inode {ino}: page-table entry 0x{e:x16} at zone offset 0x{at:x} {what}");
}
