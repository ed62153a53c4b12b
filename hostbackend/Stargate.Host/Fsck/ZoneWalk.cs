using System.Numerics;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Fsck;

/// <summary>
/// One full pass over a zone: walks the namespace from the root, every
/// inode's page table and every directory slot, recomputes the bitmaps and
/// counts that the zone stores, and lists each disagreement with its place.
/// It reads raw zone memory and trusts nothing: every offset is checked
/// before it is followed, so a corrupt zone yields problems, not exceptions.
/// </summary>
internal sealed class ZoneWalk(Zone zone)
{
    private const int Examples = 3;
    private readonly ZoneGeometry _g = zone.Geometry;
    private readonly ZoneMemory _m = zone.Memory;
    private readonly Dictionary<ulong, Node> _nodes = [];
    private readonly ulong[] _pageOwner = new ulong[(zone.Geometry.DataPages + 63) / 64];
    // Who owns a page, to name them when a second file claims it: whole chunks by chunk
    // (bounded by the chunk count), single pages by page (only small files and directories).
    private readonly ulong[] _chunkOwners = new ulong[zone.Geometry.ChunkCount];
    private readonly Dictionary<ulong, ulong> _pageOwners = [];
    // Pages pending in the grace period (owned by it, by no file): freed by a repair.
    private readonly ulong[] _pending = new ulong[(zone.Geometry.DataPages + 63) / 64];
    private readonly List<ulong> _badEntries = [];
    private readonly List<ulong> _badSlots = [];
    private readonly List<(ulong Offset, byte Type)> _slotTypes = [];
    private readonly HashSet<ulong> _broken = [];
    private readonly HashSet<ulong> _orphans = [];
    private readonly List<ulong> _badLocks = [];
    // Inodes whose xattr block is bad: repair zeroes their xattr field (the page, unreachable, is freed).
    private readonly HashSet<ulong> _badXattrs = [];
    private RootRepair _rootRebuild;

    private enum RootRepair
    {
        None,
        Mode,
        Empty,
    }

    public List<string> Problems { get; } = [];

    /// <summary>What is legal but worth saying (orphans kept for their open holders).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Unlinked regular files kept (SGZ_INODE_ORPHAN, nlink 0, no entry) because a peer may have them open.</summary>
    public List<ulong> KeptOrphans { get; } = [];

    public void Run()
    {
        // The header chunks (data header, rings, hints) are in use and nothing references them.
        for (ulong p = _g.PoolPages; p < _g.FirstDataChunk * SgzAbi.PagesPerChunk; p += 64)
        {
            _pageOwner[p / 64] = ulong.MaxValue;
        }

        var queue = new Queue<ulong>();
        if (Visit(SgzAbi.RootIno) is { IsDirectory: true } root)
        {
            root.ParentFound = SgzAbi.RootIno;
            queue.Enqueue(SgzAbi.RootIno);
        }
        else
        {
            Problems.Add("root: inode 1 is not a valid directory");
        }

        while (queue.Count > 0)
        {
            ulong dir = queue.Dequeue();
            foreach (ulong child in WalkDirectory(dir))
            {
                queue.Enqueue(child);
            }
        }

        VisitOrphans();
        ClaimPending();
        CheckCounts();
        CheckInodeBitmap();
        CheckSpace();
        CheckLocks();
    }

    /// <summary>Fixes what this walk found, through journalled changes; a later walk checks the result.</summary>
    public void Repair(List<string> done)
    {
        zone.Change(() =>
        {
            foreach (ulong slot in _badSlots)
            {
                zone.Writer.BytesForWrite(slot, SgzAbi.DirentSize).Clear();
            }

            foreach (var (offset, type) in _slotTypes)
            {
                var d = _m.Ref<SgzDirent>(offset);
                d.Type = type;
                d.Crc = Directories.DirentCrc(d);
                MemoryMarshal.Write(zone.Writer.BytesForWrite(offset, SgzAbi.DirentSize), in d);
            }

            foreach (ulong entry in _badEntries)
            {
                zone.Writer.U64ForWrite(entry) = 0;
            }

            foreach (ulong record in _badLocks)
            {
                zone.Writer.BytesForWrite(record, SgzAbi.LockSize).Clear();
            }

            foreach (ulong ino in _broken.Concat(_orphans))
            {
                zone.Inodes.ClearRecord(ino);
            }

            if (_rootRebuild != RootRepair.None)
            {
                if (_rootRebuild == RootRepair.Empty)
                {
                    zone.Inodes.ClearRecord(SgzAbi.RootIno);
                }

                ref var root = ref zone.Inodes.ForWrite(SgzAbi.RootIno);
                root.Mode = SgzAbi.SIfdir | 0x1ed;
                root.Parent = SgzAbi.RootIno;
            }

            foreach (var (ino, node) in _nodes)
            {
                if (_broken.Contains(ino) || node.Inode.Mode == 0)
                {
                    continue;
                }

                ref var w = ref zone.Inodes.ForWrite(ino);
                w.Nlink = node.IsDirectory ? 2 + node.Subdirs : node.Links;
                w.Pages = node.Pages;
                if (_badXattrs.Contains(ino))
                {
                    w.Xattr = 0;
                }
                w.Flags = node.Kept ? SgzAbi.InodeOrphan : w.Flags & ~SgzAbi.InodeOrphan;
                if (node.IsDirectory)
                {
                    w.Entries = node.Entries;
                    w.Parent = node.ParentFound;
                    if (node.IndexRebuild)
                    {
                        w.IndexRoot = 0;
                    }
                }

                if (node.SizeFound is ulong size)
                {
                    w.Size = size;
                }
            }
        });
        done.Add($"namespace: cleared {_badSlots.Count} bad entries, retyped {_slotTypes.Count}, cut {_badEntries.Count} bad table entries, dropped {_broken.Count} broken and {_orphans.Count} unreachable inodes and {_badLocks.Count} bad lock records, recounted links, entries and pages");

        RebuildBitmaps();
        done.Add("space: rebuilt the inode and page bitmaps, chunk usage, group owners and free counts from what is reachable");

        var rebuild = _nodes.Where(n => n.Value.IndexRebuild && !_broken.Contains(n.Key) && n.Value.Inode.Mode != 0).Select(n => n.Key).ToList();
        foreach (ulong ino in rebuild)
        {
            zone.Change(() => zone.Directories.BuildIndex(ino));
        }

        if (rebuild.Count > 0)
        {
            done.Add($"directories: built the index of {rebuild.Count} directories again from their entries");
        }
    }

    private Node? Visit(ulong ino)
    {
        if (_nodes.TryGetValue(ino, out var known))
        {
            return known;
        }

        var inode = _m.Ref<SgzInode>(_g.InodeOffset(ino));
        string where = $"inode {ino} (at 0x{_g.InodeOffset(ino):x})";
        if (ino == SgzAbi.RootIno && (inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIfdir)
        {
            inode = RootAsDirectory(inode);
        }

        var node = new Node(inode);
        if (inode.Mode == 0)
        {
            return null;
        }

        uint type = inode.Mode & SgzAbi.SIfmt;
        bool knownType = type is SgzAbi.SIfreg or SgzAbi.SIfdir or SgzAbi.SIflnk or SgzAbi.SIfifo or SgzAbi.SIfchr or SgzAbi.SIfblk or SgzAbi.SIfsock;
        bool tableOk = inode.PtDepth <= SgzAbi.PtMaxDepth && (inode.PtDepth == 0) == (inode.PtRoot == 0)
            && (inode.PtDepth == 0 || IsNode(inode.PtRoot));
        if (!knownType || !tableOk)
        {
            Problems.Add($"{where}: unusable ({(!knownType ? $"unknown type 0{Convert.ToString(inode.Mode, 8)}" : $"page-table root 0x{inode.PtRoot:x} at depth {inode.PtDepth}")})");
            _broken.Add(ino);
            _nodes[ino] = node;
            return null;
        }

        if (InodeTable.Crc(inode) != inode.Crc)
        {
            Problems.Add($"{where}: checksum mismatch (stored 0x{inode.Crc:x8}, computed 0x{InodeTable.Crc(inode):x8}); its fields look sane, so repair rewrites it");
        }

        _nodes[ino] = node;
        if (inode.PtDepth > 0)
        {
            WalkTable(ino, node, inode.PtRoot, inode.PtDepth, 0, _g.InodeOffset(ino));
        }

        if (inode.Xattr != 0)
        {
            CheckXattrBlock(ino, node, inode);
        }

        return node;
    }

    /// <summary>
    /// The inode's xattr block: a page of the structure pool, owned by this inode alone, whose
    /// header, crc and entries a guest would accept; counted in the inode's pages. A bad one
    /// is cut off the inode by repair (its xattr field zeroed, the page freed as unreachable).
    /// </summary>
    private void CheckXattrBlock(ulong ino, Node node, in SgzInode inode)
    {
        if (!IsNode(inode.Xattr))
        {
            Problems.Add($"inode {ino}: xattr block at 0x{inode.Xattr:x} is not a page of the structure pool");
            _badXattrs.Add(ino);
            return;
        }

        try
        {
            XattrBlock.Decode(_m.Span(inode.Xattr, SgzAbi.XattrBlockSize).ToArray(), ino, inode.Generation, zone.Path);
        }
        catch (ZoneCorruptException e)
        {
            Problems.Add($"inode {ino}: {e.Message}");
            _badXattrs.Add(ino);
            return;
        }

        ulong page = _g.PageIndex(inode.Xattr);
        if ((_pageOwner[page / 64] >> (int)(page % 64) & 1) != 0)
        {
            Problems.Add($"inode {ino}: xattr block at 0x{inode.Xattr:x} is page {page}, already used by inode {OwnerOf(page)}");
            _badXattrs.Add(ino);
            return;
        }

        Claim(ino, inode.Xattr, 1, _g.InodeOffset(ino));
        node.Pages++;
    }

    /// <summary>
    /// The root must exist and be a directory. With a sane table it is made a directory
    /// again and keeps its entries; otherwise repair gives the zone a fresh, empty root
    /// (what was below it is then unreachable, and freed).
    /// </summary>
    private SgzInode RootAsDirectory(SgzInode root)
    {
        bool tableOk = root.PtDepth <= SgzAbi.PtMaxDepth && (root.PtDepth == 0) == (root.PtRoot == 0)
            && (root.PtDepth == 0 || IsNode(root.PtRoot));
        Problems.Add($"root: inode 1 has mode 0{Convert.ToString(root.Mode, 8)}, not a directory; {(tableOk ? "repair makes it one again, keeping its entries" : "its table is unusable too: repair gives the zone a new, empty root")}");
        _rootRebuild = tableOk ? RootRepair.Mode : RootRepair.Empty;
        if (!tableOk)
        {
            root = default;
            root.Nlink = 2;
        }

        root.Mode = SgzAbi.SIfdir | 0x1ed;
        root.Parent = SgzAbi.RootIno;
        return root;
    }

    private void WalkTable(ulong ino, Node node, ulong table, int level, ulong fileBase, ulong where)
    {
        if (!Claim(ino, table, 1, where))
        {
            return;
        }

        node.Pages++;
        ulong span = 4096UL << (9 * (level - 1));
        for (ulong i = 0; i < SgzAbi.PtEntries; i++)
        {
            ulong at = table + (i * 8);
            ulong e = _m.Ref<ulong>(at);
            if ((e & SgzAbi.PtePresent) == 0)
            {
                if (e != 0)
                {
                    Problems.Add($"inode {ino}: page-table entry at 0x{at:x} is not present but not zero (0x{e:x})");
                    _badEntries.Add(at);
                }

                continue;
            }

            ulong fileOffset = fileBase + (i * span);
            bool huge = (e & SgzAbi.PteHuge) != 0;
            if (huge && level != 2)
            {
                BadEntry(ino, at, e, "has the huge bit off the PMD level");
            }
            else if (level == 1 || huge)
            {
                ulong frame = e & (huge ? SgzAbi.PmdAddrMask : SgzAbi.PteAddrMask);
                ulong size = huge ? ZoneGeometry.ChunkSize : ZoneGeometry.PageSize;
                bool regular = (node.Inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfreg;
                if (frame % size != 0 || !_g.Data.Contains(frame, size))
                {
                    BadEntry(ino, at, e, "points outside the data region or is misaligned");
                }
                else if (regular ? !_g.IsFileDataPage(_g.PageIndex(frame)) : !_g.IsPoolPage(_g.PageIndex(frame)))
                {
                    BadEntry(ino, at, e, regular ? "maps a regular file's data outside the data chunks" : "maps a directory's or symlink's page outside the structure pool");
                }
                else if (Claim(ino, frame, size / ZoneGeometry.PageSize, at))
                {
                    node.Pages += size / ZoneGeometry.PageSize;
                    node.LastByte = Math.Max(node.LastByte, fileOffset + size);
                    for (ulong p = 0; node.IsDirectory && p < size; p += ZoneGeometry.PageSize)
                    {
                        node.DataPages[fileOffset + p] = frame + p;
                    }
                }
            }
            else if (!IsNode(e & SgzAbi.PteAddrMask))
            {
                BadEntry(ino, at, e, "points to a table outside the structure pool");
            }
            else
            {
                WalkTable(ino, node, e & SgzAbi.PteAddrMask, level - 1, fileOffset, at);
            }
        }
    }

    private List<ulong> WalkDirectory(ulong dirIno)
    {
        var dir = _nodes[dirIno];
        var names = new HashSet<string>(StringComparer.Ordinal);
        var subdirs = new List<ulong>();
        string where = $"directory inode {dirIno}";
        ulong pagesEnd = dir.DataPages.Count == 0 ? 0 : dir.DataPages.Keys.Max() + ZoneGeometry.PageSize;
        if (dir.Inode.Size != pagesEnd)
        {
            Problems.Add($"{where}: size {dir.Inode.Size}, but its pages end at {pagesEnd}");
            dir.SizeFound = pagesEnd;
        }

        var live = new Dictionary<ulong, uint>();
        foreach (var (fileOffset, page) in dir.DataPages.OrderBy(p => p.Key))
        {
            for (ulong i = 0; i < SgzAbi.DirentsPerPage; i++)
            {
                ulong number = (fileOffset / ZoneGeometry.PageSize * SgzAbi.DirentsPerPage) + i;
                ulong at = page + SgzAbi.DirPageHeader + (i * SgzAbi.DirentSize);
                var d = _m.Ref<SgzDirent>(at);
                if (d.Ino == 0)
                {
                    continue;
                }

                string slot = $"{where}: entry at 0x{at:x}";
                string? bad = null;
                string name = System.Text.Encoding.UTF8.GetString(Directories.NameOf(d));
                if (Directories.DirentCrc(d) != d.Crc)
                {
                    bad = $"checksum mismatch (stored 0x{d.Crc:x8}, computed 0x{Directories.DirentCrc(d):x8})";
                }
                else if (d.NameLen == 0 || name is "." or ".." || Directories.NameOf(d).IndexOfAny((byte)'/', (byte)0) >= 0)
                {
                    bad = $"invalid name '{name}'";
                }
                else if (d.Ino >= _g.InodeCount)
                {
                    bad = $"inode {d.Ino} is outside the table";
                }
                else if (!names.Add(name))
                {
                    bad = $"duplicate name '{name}'";
                }

                var target = bad is null ? Visit(d.Ino) : null;
                if (bad is null && target is null)
                {
                    bad = _broken.Contains(d.Ino) ? $"'{name}' names unusable inode {d.Ino}" : $"'{name}' names free inode {d.Ino}";
                }

                if (bad is null && target!.IsDirectory && target.ParentFound != 0)
                {
                    bad = $"'{name}' is a second link to directory inode {d.Ino}";
                }

                if (bad is not null)
                {
                    Problems.Add($"{slot}: {bad}");
                    _badSlots.Add(at);
                    continue;
                }

                dir.Entries++;
                byte type = InodeTable.TypeOf(target!.Inode.Mode);
                if (d.Type != type)
                {
                    Problems.Add($"{slot}: '{name}' has type {d.Type} but inode {d.Ino} is of type {type}");
                    _slotTypes.Add((at, type));
                }

                if (d.Generation != target.Inode.Generation)
                {
                    Problems.Add($"{slot}: '{name}' was made for generation {d.Generation} of inode {d.Ino}, which is at {target.Inode.Generation}");
                    _badSlots.Add(at);
                    dir.Entries--;
                    continue;
                }

                live[number] = d.Hash;
                target.Links++;
                if (target.IsDirectory)
                {
                    target.ParentFound = dirIno;
                    dir.Subdirs++;
                    subdirs.Add(d.Ino);
                }
            }
        }

        if (dir.Inode.IndexRoot != 0)
        {
            CheckIndex(dirIno, dir, live);
        }

        return subdirs;
    }

    /// <summary>
    /// A directory's index (format 2.2) must be well formed, its pages the directory's own and
    /// no one else's, and hold exactly one pair for each good entry (the entries repair keeps)
    /// and none for a free or bad slot. Any fault marks it for a rebuild: repair drops the
    /// index (its pages go back with the bitmaps) and builds it again from the entries.
    /// </summary>
    private void CheckIndex(ulong dirIno, Node dir, Dictionary<ulong, uint> live)
    {
        string where = $"directory inode {dirIno}: index at 0x{dir.Inode.IndexRoot:x}";
        string? problem = IndexProblem(dirIno, dir.Inode.IndexRoot, live, out var pages);
        if (problem is null)
        {
            foreach (ulong p in pages.Select(_g.PageIndex))
            {
                if (((_pageOwner[p / 64] >> (int)(p % 64)) & 1) != 0)
                {
                    problem = $"page 0x{_g.PageOffset(p):x} is already used by inode {OwnerOf(p)}";
                    break;
                }
            }
        }

        if (problem is not null)
        {
            Problems.Add($"{where}: {problem}; repair builds the index again");
            dir.IndexRebuild = true;
            return;
        }

        foreach (ulong page in pages)
        {
            Claim(dirIno, page, 1, dir.Inode.IndexRoot);
            dir.Pages++;
        }
    }

    private string? IndexProblem(ulong dirIno, ulong root, Dictionary<ulong, uint> live, out List<ulong> pages)
    {
        pages = [];
        if (root % ZoneGeometry.PageSize != 0 || root >> SgzAbi.PageShift > uint.MaxValue
            || !DirectoryIndex.TryPage(_g, (uint)(root >> SgzAbi.PageShift), out _))
        {
            return "the root is not a page of the structure pool";
        }

        try
        {
            pages = zone.Directories.Index.PagesOf(dirIno, root);
            var r = _m.Ref<SgzDirIndex>(root);
            if (r.Pages != pages.Count)
            {
                return $"counts {r.Pages} pages, but {pages.Count} are reachable";
            }

            // Every bucket (and its overflow pages) agrees with each root entry that names it.
            for (int i = 0; i < 1 << r.Depth; i++)
            {
                uint number = _m.Ref<uint>(root + 64 + ((ulong)i * 4));
                DirectoryIndex.TryPage(_g, number, out ulong page);
                for (int hops = 0; page != 0; hops++)
                {
                    var b = _m.Ref<SgzDirBucket>(page);
                    uint mask = (1u << b.Depth) - 1;
                    if (b.Depth > r.Depth || (hops > 0 && b.Depth != SgzAbi.DiridxMaxDepth) || (b.Next != 0 && b.Depth != SgzAbi.DiridxMaxDepth))
                    {
                        return $"bucket at 0x{page:x} has depth {b.Depth} (root {r.Depth}) or a misplaced overflow page";
                    }

                    for (int k = 0; k < b.Count; k++)
                    {
                        uint hash = _m.Ref<uint>(page + 16 + ((ulong)k * 8));
                        if ((hash & mask) != ((uint)i & mask))
                        {
                            return $"bucket at 0x{page:x} holds hash 0x{hash:x8}, which root entry {i} does not lead to";
                        }
                    }

                    page = b.Next == 0 || hops > pages.Count ? 0 : (ulong)b.Next << SgzAbi.PageShift;
                }
            }

            var seen = new HashSet<ulong>();
            foreach (var (hash, slot, page) in zone.Directories.Index.PairsOf(dirIno, root))
            {
                if (!live.TryGetValue(slot, out uint found) || found != hash)
                {
                    return $"bucket at 0x{page:x} names slot {slot} (hash 0x{hash:x8}), which holds no such entry";
                }

                if (!seen.Add(slot))
                {
                    return $"slot {slot} is indexed twice";
                }
            }

            if (seen.Count != live.Count)
            {
                return $"holds {seen.Count} entries of the directory's {live.Count}";
            }

            return r.Entries == seen.Count ? null : $"counts {r.Entries} entries, but holds {seen.Count}";
        }
        catch (ZoneCorruptException e)
        {
            return e.Message;
        }
    }

    private void CheckCounts()
    {
        foreach (var (ino, node) in _nodes.OrderBy(n => n.Key))
        {
            if (_broken.Contains(ino))
            {
                continue;
            }

            var i = node.Inode;
            uint links = node.IsDirectory ? 2 + node.Subdirs : node.Links;
            if (i.Nlink != links)
            {
                Problems.Add($"inode {ino}: link count {i.Nlink}, but {links} found");
            }

            if (!node.IsDirectory && i.Size > SgzAbi.FileSizeMax)
            {
                Problems.Add($"inode {ino}: size {i.Size} exceeds the largest file, {Units.Bytes(SgzAbi.FileSizeMax)}");
                node.SizeFound = node.LastByte;
            }

            if ((i.Flags & SgzAbi.InodeOrphan) != 0 && !node.Kept)
            {
                Problems.Add($"inode {ino}: flagged orphan but it has {links} link(s)");
            }

            if (i.Pages != node.Pages)
            {
                Problems.Add($"inode {ino}: counts {i.Pages} pages, but its table holds {node.Pages}");
            }

            if (node.IsDirectory && i.Entries != node.Entries)
            {
                Problems.Add($"directory inode {ino}: counts {i.Entries} entries, but {node.Entries} found");
            }

            if (node.IsDirectory && i.Parent != node.ParentFound)
            {
                Problems.Add($"directory inode {ino}: parent field says {i.Parent}, but it is listed in {node.ParentFound}");
            }
        }
    }

    /// <summary>
    /// Format 1.1: a regular file flagged SGZ_INODE_ORPHAN with nlink 0 that no entry names
    /// is legal (its last name went while a peer had it open): walked like any file, kept.
    /// </summary>
    private void VisitOrphans()
    {
        var bitmap = zone.Inodes.Bitmap;
        for (int w = 0; w < bitmap.Length; w++)
        {
            for (ulong bits = bitmap[w]; bits != 0; bits &= bits - 1)
            {
                ulong ino = ((ulong)w * 64) + (ulong)BitOperations.TrailingZeroCount(bits);
                if (ino <= SgzAbi.RootIno || ino >= _g.InodeCount || _nodes.ContainsKey(ino))
                {
                    continue;
                }

                var inode = _m.Ref<SgzInode>(_g.InodeOffset(ino));
                if ((inode.Flags & SgzAbi.InodeOrphan) == 0 || inode.Nlink != 0 || (inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIfreg)
                {
                    continue;
                }

                if (Visit(ino) is { } node)
                {
                    node.Kept = true;
                    KeptOrphans.Add(ino);
                    Notes.Add($"inode {ino}: orphan (unlinked while open in a peer), {node.Pages} pages kept until its last holder closes it");
                }
            }
        }
    }

    /// <summary>Every lock-table record in use must name a live inode of its generation, with a sane holder, kind and range.</summary>
    private void CheckLocks()
    {
        for (ulong i = 0; i < _g.LockSlots; i++)
        {
            ulong at = _g.LockTable.Offset + (i * SgzAbi.LockSize);
            var r = _m.Ref<SgzLock>(at);
            if (r.Word == 0)
            {
                continue;
            }

            ulong holder = r.Word & SgzAbi.LockHolderMask;
            ulong kind = (r.Word >> SgzAbi.LockKindShift) & 0xf;
            string? bad = null;
            if (holder == 0 || holder > _g.MaxPeers || kind is not (SgzAbi.LockKindFlock or SgzAbi.LockKindPosix) || r.Start > r.End)
            {
                bad = $"word 0x{r.Word:x} or range {r.Start}..{r.End} is invalid";
            }
            else if (r.Ino == 0 || r.Ino >= _g.InodeCount || !_nodes.TryGetValue(r.Ino, out var node) || _broken.Contains(r.Ino) || !node.IsLive)
            {
                bad = $"names inode {r.Ino}, which is free";
            }
            else if (node.Inode.Generation != r.Generation)
            {
                bad = $"names generation {r.Generation} of inode {r.Ino}, which is at {node.Inode.Generation}";
            }

            if (bad is not null)
            {
                Problems.Add($"lock table: record {i} at 0x{at:x} {bad}");
                _badLocks.Add(at);
            }
        }
    }

    private void CheckInodeBitmap()
    {
        var bitmap = zone.Inodes.Bitmap;
        if ((bitmap[0] & 1) == 0)
        {
            Problems.Add("inode bitmap: bit 0 (the never-used inode 0) is clear");
        }

        var unmarked = new List<ulong>();
        var unreachable = new List<ulong>();
        for (ulong ino = 1; ino < _g.InodeCount; ino++)
        {
            bool used = ((bitmap[(int)(ino / 64)] >> (int)(ino % 64)) & 1) != 0;
            bool reached = _nodes.TryGetValue(ino, out var n) && !_broken.Contains(ino) && n.IsLive;
            if (reached && !used)
            {
                unmarked.Add(ino);
            }
            else if (used && !reached)
            {
                unreachable.Add(ino);
                if (_m.Ref<SgzInode>(_g.InodeOffset(ino)).Mode != 0 && !_broken.Contains(ino))
                {
                    _orphans.Add(ino);
                }
            }

            if (bitmap[(int)(ino / 64)] == 0 && ino % 64 == 0)
            {
                // Skip a clear word quickly, unless a reached inode lies in it.
                ulong next = ino + 63;
                if (!_nodes.Keys.Any(k => k > ino && k <= next))
                {
                    ino = next;
                }
            }
        }

        Report(unmarked, "inode bitmap: reachable inodes marked free", n => $"inode {n}");
        Report(unreachable, "inodes marked in use that no directory reaches", n => $"inode {n}");
    }

    private void CheckSpace()
    {
        var bitmap = zone.Allocator.PageBitmap;
        var extra = new List<ulong>();
        var missing = new List<ulong>();
        for (int w = 0; w < _pageOwner.Length; w++)
        {
            ulong stored = bitmap[w];
            ulong found = _pageOwner[w];
            if (stored == found)
            {
                continue;
            }

            for (ulong diff = stored ^ found; diff != 0; diff &= diff - 1)
            {
                int bit = BitOperations.TrailingZeroCount(diff);
                ulong page = ((ulong)w * 64) + (ulong)bit;
                ((found >> bit & 1) == 0 ? extra : missing).Add(page);
            }
        }

        Report(extra, "page bitmap: pages marked used that nothing references", p => $"data page {p} at 0x{_g.PageOffset(p):x}");
        Report(missing, "page bitmap: pages in use but marked free", p => $"data page {p} at 0x{_g.PageOffset(p):x}");

        var usage = zone.Allocator.ChunkUsage;
        var owners = zone.Allocator.GroupOwners;
        ulong used = 0;
        var wrongUsage = new List<ulong>();
        for (ulong c = 0; c < _g.ChunkCount; c++)
        {
            ulong count = 0;
            for (int w = 0; w < 8; w++)
            {
                count += (ulong)BitOperations.PopCount(_pageOwner[(c * 8) + (ulong)w]);
            }

            used += c >= _g.FirstDataChunk ? count : 0;
            if (usage[(int)c] != count)
            {
                wrongUsage.Add(c);
            }
        }

        var storedUsage = wrongUsage.Take(Examples).ToDictionary(c => c, c => 0);
        foreach (ulong c in storedUsage.Keys)
        {
            storedUsage[c] = usage[(int)c];
        }

        Report(wrongUsage, "chunk usage: counters that disagree with the pages in use", c => $"chunk {c} counts {storedUsage.GetValueOrDefault(c)}");
        var badOwners = new List<ulong>();
        var ownerOf = new Dictionary<ulong, ushort>();
        for (ulong g = 0; g < _g.GroupCount; g++)
        {
            bool empty = !GroupUsage(usage, g).ContainsAnyExcept((ushort)0);
            if (owners[(int)g] > _g.MaxPeers || (owners[(int)g] != 0 && empty))
            {
                badOwners.Add(g);
                ownerOf[g] = owners[(int)g];
            }
        }

        Report(badOwners, "group owners: out of range, or owning an empty group", g => $"group {g} owner {ownerOf[g]}");

        var sb = zone.Superblock;
        if (sb.FreePages != _g.FileDataPages - used)
        {
            Problems.Add($"superblock: free_pages is {sb.FreePages}, but {_g.FileDataPages - used} data pages are free");
        }

        ulong live = (ulong)_nodes.Count(n => !_broken.Contains(n.Key) && n.Value.IsLive);
        if (sb.FreeInodes != _g.InodeCount - 1 - live)
        {
            Problems.Add($"superblock: free_inodes is {sb.FreeInodes}, but {_g.InodeCount - 1 - live} inodes are free");
        }
    }

    /// <summary>
    /// Pages pending in the grace period are in use, owned by it: each must be a data page no
    /// file holds; each chunk's epoch is set exactly where it has pending pages, never above the
    /// posted epoch; pending_pages counts them.
    /// </summary>
    private void ClaimPending()
    {
        var bits = zone.Grace.PendingBitmap;
        var epochs = zone.Grace.ChunkEpochs;
        ulong posted = zone.Grace.PostedEpoch;
        ulong count = 0;
        var shared = new List<ulong>();
        var outside = new List<ulong>();
        var badEpochs = new List<ulong>();
        for (ulong c = 0; c < _g.ChunkCount; c++)
        {
            bool any = false;
            for (ulong w = c * 8; w < (c + 1) * 8; w++)
            {
                for (ulong b = bits[(int)w]; b != 0; b &= b - 1)
                {
                    ulong p = (w * 64) + (ulong)BitOperations.TrailingZeroCount(b);
                    ulong bit = 1UL << (int)(p % 64);
                    if (!_g.IsFileDataPage(p))
                    {
                        outside.Add(p);
                    }
                    else if ((_pageOwner[w] & bit) != 0)
                    {
                        shared.Add(p);
                    }
                    else
                    {
                        _pageOwner[w] |= bit;
                        _pending[w] |= bit;
                        count++;
                        any = true;
                    }
                }
            }

            if (any != (epochs[(int)c] != 0) || epochs[(int)c] > posted)
            {
                badEpochs.Add(c);
            }
        }

        Report(outside, "grace period: pending pages outside the data chunks", p => $"page {p}");
        Report(shared, "grace period: pending pages a file still uses (two owners)", p => $"data page {p} used by inode {OwnerOf(p)}");
        Report(badEpochs, "grace period: chunk epochs that do not match its pending pages or lie above the posted epoch", c => $"chunk {c} epoch {zone.Grace.ChunkEpochs[(int)c]}");
        if (zone.Superblock.PendingPages != count)
        {
            Problems.Add($"superblock: pending_pages is {zone.Superblock.PendingPages}, but {count} pages are pending");
        }
    }

    private void ClearNonZero(ulong offset, ReadOnlySpan<ulong> words)
    {
        for (int w = 0; w < words.Length; w++)
        {
            if (words[w] != 0)
            {
                zone.Writer.U64ForWrite(offset + ((ulong)w * 8)) = 0;
            }
        }
    }

    private void RebuildBitmaps()
    {
        zone.Change(() =>
        {
            // A repair runs with no guest live: whatever was pending is freed.
            for (int w = 0; w < _pending.Length; w++)
            {
                _pageOwner[w] &= ~_pending[w];
            }

            // Word by word, only what is set: the journal saves what a change overwrites.
            ClearNonZero(_g.GracePages.Offset, zone.Grace.PendingBitmap);
            ClearNonZero(_g.GraceEpochs.Offset, zone.Grace.ChunkEpochs);
            zone.Writer.SuperblockForWrite().PendingPages = 0;

            var live = _nodes.Where(n => !_broken.Contains(n.Key) && !_orphans.Contains(n.Key) && n.Value.IsLive)
                .Select(n => n.Key).ToHashSet();
            ulong words = (_g.InodeCount + 63) / 64;
            for (ulong w = 0; w < words; w++)
            {
                ulong want = w == 0 ? 1UL : 0UL;
                foreach (ulong ino in live.Where(i => i / 64 == w))
                {
                    want |= 1UL << (int)(ino % 64);
                }

                if (zone.Inodes.Bitmap[(int)w] != want)
                {
                    zone.Writer.U64ForWrite(_g.InodeBitmap.Offset + (w * 8)) = want;
                }
            }

            ulong used = 0;
            for (ulong w = 0; w < (ulong)_pageOwner.Length; w++)
            {
                if (zone.Allocator.PageBitmap[(int)w] != _pageOwner[w])
                {
                    zone.Writer.U64ForWrite(_g.PageBitmap.Offset + (w * 8)) = _pageOwner[w];
                }
            }

            for (ulong c = 0; c < _g.ChunkCount; c++)
            {
                ushort count = 0;
                for (int w = 0; w < 8; w++)
                {
                    count += (ushort)BitOperations.PopCount(_pageOwner[(c * 8) + (ulong)w]);
                }

                used += c >= _g.FirstDataChunk ? count : 0u;
                if (zone.Allocator.ChunkUsage[(int)c] != count)
                {
                    zone.Writer.U16ForWrite(_g.ChunkUsage.Offset + (c * 2)) = count;
                }
            }

            for (ulong g = 0; g < _g.GroupCount; g++)
            {
                bool empty = !GroupUsage(zone.Allocator.ChunkUsage, g).ContainsAnyExcept((ushort)0);
                ushort owner = zone.Allocator.GroupOwners[(int)g];
                if (owner > _g.MaxPeers || (owner != 0 && empty))
                {
                    zone.Writer.U16ForWrite(_g.GroupOwner.Offset + (g * 2)) = 0;
                }
            }

            ref var sb = ref zone.Writer.SuperblockForWrite();
            sb.FreePages = _g.FileDataPages - used;
            sb.FreeInodes = _g.InodeCount - 1 - (ulong)live.Count;
        });
    }

    /// <summary>The usage counters of a group's data chunks (ownership is about those only).</summary>
    private ReadOnlySpan<ushort> GroupUsage(ReadOnlySpan<ushort> usage, ulong group)
    {
        var (start, count) = _g.GroupDataChunks(group);
        return usage.Slice((int)start, (int)count);
    }

    private bool IsNode(ulong offset) => offset % ZoneGeometry.PageSize == 0 && _g.Data.Contains(offset, ZoneGeometry.PageSize) && _g.IsPoolPage(_g.PageIndex(offset));

    /// <summary>Marks pages as owned by <paramref name="ino"/>; false (and a problem) if another owner has one of them.</summary>
    private bool Claim(ulong ino, ulong offset, ulong pages, ulong where)
    {
        ulong first = _g.PageIndex(offset);
        for (ulong p = first; p < first + pages; p++)
        {
            if ((_pageOwner[p / 64] >> (int)(p % 64) & 1) != 0)
            {
                Problems.Add($"inode {ino}: entry at 0x{where:x} uses data page {p} (0x{_g.PageOffset(p):x}), already used by inode {OwnerOf(p)}");
                _badEntries.Add(where);
                return false;
            }
        }

        for (ulong p = first; p < first + pages; p++)
        {
            _pageOwner[p / 64] |= 1UL << (int)(p % 64);
        }

        if (pages == SgzAbi.PagesPerChunk)
        {
            _chunkOwners[first / SgzAbi.PagesPerChunk] = ino;
        }
        else
        {
            _pageOwners[first] = ino;
        }

        return true;
    }

    private ulong OwnerOf(ulong page) =>
        _pageOwners.TryGetValue(page, out ulong ino) ? ino : _chunkOwners[page / SgzAbi.PagesPerChunk];

    private void BadEntry(ulong ino, ulong at, ulong e, string what)
    {
        Problems.Add($"inode {ino}: page-table entry 0x{e:x16} at 0x{at:x} {what}");
        _badEntries.Add(at);
    }

    private void Report(List<ulong> items, string what, Func<ulong, string> describe)
    {
        if (items.Count > 0)
        {
            string examples = string.Join(", ", items.Take(Examples).Select(describe));
            Problems.Add($"{what}: {items.Count} ({examples}{(items.Count > Examples ? ", ..." : string.Empty)})");
        }
    }

    /// <summary>What the walk learned of one inode.</summary>
    private sealed class Node(SgzInode inode)
    {
        public SgzInode Inode { get; } = inode;

        public bool IsDirectory => (Inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfdir;

        public uint Links { get; set; }

        public uint Subdirs { get; set; }

        public ulong Entries { get; set; }

        public ulong Pages { get; set; }

        /// <summary>The end of the last page its table maps.</summary>
        public ulong LastByte { get; set; }

        /// <summary>The size repair gives it, where its size is impossible.</summary>
        public ulong? SizeFound { get; set; }

        /// <summary>A legal orphan: reached through no entry, kept for a peer that may have it open.</summary>
        public bool Kept { get; set; }

        public bool IsLive => Links > 0 || ParentFound != 0 || Kept;

        /// <summary>For directories: the directory that lists it (0 = none yet).</summary>
        public ulong ParentFound { get; set; }

        /// <summary>Directories only: its index is damaged; repair drops it and builds it again.</summary>
        public bool IndexRebuild { get; set; }

        /// <summary>Directories only: file offset to zone offset of every 4 KiB page (the slots are read through it).</summary>
        public Dictionary<ulong, ulong> DataPages { get; } = [];
    }
}
