using System.Text;
using Stargate.Interop.Abi;
using static Stargate.Host.Zones.Format1.Format1Layout;

namespace Stargate.Host.Zones.Format1;

/// <summary>
/// Reads a format 1 zone's tree from the root and checks every record on the way as the format
/// 1 host did (crcs, inode numbers and bitmap bits, depths, sizes, names, frames inside the data
/// region), and more: a directory is reached once, with its parent's number; every name of a
/// file is counted against its nlink; no data page or table node serves two places. Each loop is
/// bounded by the geometry: a directory's pages by its page count, table walks by their depth
/// and the file's size, and every page the walk follows is marked, so all walks together visit
/// at most the data region's pages once. The first problem throws, naming the path.
/// </summary>
internal sealed class Format1Walk(Format1Zone zone)
{
    private readonly ulong[] _usedPages = new ulong[(zone.DataPages + 63) / 64];
    private readonly Dictionary<ulong, Format1Node> _nodes = [];
    private readonly Dictionary<ulong, uint> _names = [];
    private readonly Dictionary<ulong, ulong> _parents = [];
    private readonly List<Format1Entry> _entries = [];
    private byte[] _inodeBitmap = [];

    public Format1Tree Read()
    {
        _inodeBitmap = new byte[(zone.InodeCount + 7) / 8];
        zone.Read(zone.RegionOffset(RegionInodeBitmap), _inodeBitmap);
        var root = Load(RootIno, "/");
        if (root.Type != SIfdir)
        {
            throw zone.Corrupt($"/: the root inode is not a directory (mode 0{Convert.ToString(root.Mode, 8)})");
        }

        var pending = new Stack<(Format1Node Dir, string Path)>();
        pending.Push((root, string.Empty));
        while (pending.Count > 0)
        {
            var (dir, path) = pending.Pop();
            foreach (var (name, ino, type, at) in Entries(dir, path.Length == 0 ? "/" : path))
            {
                string child = $"{path}/{Encoding.UTF8.GetString(name)}";
                if (_nodes.TryGetValue(ino, out var known))
                {
                    if (known.Type == SIfdir)
                    {
                        throw zone.Corrupt($"{child}: directory inode {ino} has a second name (entry at zone offset 0x{at:x})");
                    }

                    RequireType(child, known, type, at);
                    _names[ino]++;
                    _entries.Add(new Format1Entry(child, dir.Ino, name, ino));
                    continue;
                }

                var node = Load(ino, child);
                RequireType(child, node, type, at);
                _entries.Add(new Format1Entry(child, dir.Ino, name, ino));
                _names[ino] = 1;
                if (node.Type == SIfdir)
                {
                    if (_parents[ino] != dir.Ino)
                    {
                        throw zone.Corrupt($"{child}: directory inode {ino} names inode {_parents[ino]} as its parent, not {dir.Ino}");
                    }

                    pending.Push((node, child));
                }
            }
        }

        foreach (var (ino, names) in _names)
        {
            var node = _nodes[ino];
            if (node.Type != SIfdir && node.Nlink != names)
            {
                string path = _entries.First(e => e.Ino == ino).Path;
                throw zone.Corrupt($"{path}: inode {ino} has {names} names but a link count of {node.Nlink}");
            }
        }

        return new Format1Tree(zone.Version, zone.ZoneSize, _entries, _nodes);
    }

    /// <summary>Loads and checks inode <paramref name="ino"/>, reached as <paramref name="path"/>, with its extents or target.</summary>
    private Format1Node Load(ulong ino, string path)
    {
        if (ino == 0 || ino >= zone.InodeCount)
        {
            throw zone.Corrupt($"{path}: inode {ino} is outside the table (1..{zone.InodeCount - 1})");
        }

        if ((_inodeBitmap[ino / 8] & (1 << (int)(ino % 8))) == 0)
        {
            throw zone.Corrupt($"{path}: inode {ino} is referenced but free in the inode bitmap");
        }

        ulong at = zone.RegionOffset(RegionInodeTable) + (ino * InodeRecordSize);
        Span<byte> r = stackalloc byte[InodeRecordSize];
        zone.Read(at, r);
        uint mode = U32(r, InodeMode);
        uint crc = Crc32C.Compute(r[..InodeCrc]);
        string where = $"{path}: inode {ino} at zone offset 0x{at:x}";
        if (mode == 0)
        {
            throw zone.Corrupt($"{where} is referenced but free");
        }

        if (crc != U32(r, InodeCrc))
        {
            throw zone.Corrupt($"{where}: checksum mismatch (stored 0x{U32(r, InodeCrc):x8}, computed 0x{crc:x8})");
        }

        if ((U32(r, InodeSeq) & 1) != 0)
        {
            throw zone.Corrupt($"{where} was left mid-change (seq {U32(r, InodeSeq)} is odd: a guest or a writer died changing it)");
        }

        int depth = r[InodePtDepth];
        ulong size = U64(r, InodeFileSize);
        ulong pages = U64(r, InodePages);
        if (depth > PtMaxDepth || size > FileSizeMax || pages > zone.DataPages)
        {
            throw zone.Corrupt($"{where}: page-table depth {depth}, size {size} or page count {pages} is out of range");
        }

        var node = new Format1Node(ino, mode, U32(r, InodeUid), U32(r, InodeGid), U32(r, InodeNlink), size, U64(r, InodeAtimeNs), U64(r, InodeMtimeNs), U64(r, InodeCtimeNs));
        ulong root = U64(r, InodePtRoot);
        switch (node.Type)
        {
            case SIfdir:
                if (size % PageSize != 0 || size / PageSize > pages)
                {
                    throw zone.Corrupt($"{where}: directory size {size} does not match its {pages} pages");
                }

                _parents[ino] = U64(r, InodeParent);
                Extents(node, root, depth, size, path);
                break;
            case SIfreg:
                Extents(node, root, depth, size, path);
                break;
            case SIflnk:
                if (size == 0 || size > SymlinkMax)
                {
                    throw zone.Corrupt($"{where}: symbolic link size {size} (1..{SymlinkMax})");
                }

                Extents(node, root, depth, size, path);
                node = node with { Target = ReadTarget(node, path) };
                break;
            case SIfifo or SIfsock:
                break;
            case SIfchr or SIfblk:
                // The format 1 host never made one (mknod of a device was refused), and format 2 has none.
                throw new ZoneException(ZoneError.InvalidArgument,
                    $"{zone.Path}: {path} is a device node (inode {ino}), which no stargate zone holds; nothing was migrated");
            default:
                throw zone.Corrupt($"{where}: mode 0{Convert.ToString(mode, 8)} is no file type");
        }

        _nodes[ino] = node;
        return node;
    }

    private void RequireType(string path, Format1Node node, byte type, ulong at)
    {
        if (TypeOf(node.Mode) != type)
        {
            throw zone.Corrupt($"{path}: entry at zone offset 0x{at:x} has type {type}, but inode {node.Ino} has mode 0{Convert.ToString(node.Mode, 8)}");
        }
    }

    private byte[] ReadTarget(Format1Node node, string path)
    {
        byte[] target = new byte[node.Size];
        ulong covered = 0;
        foreach (var e in node.Extents)
        {
            if (e.FileOffset != covered)
            {
                break;
            }

            zone.Read(e.ZoneOffset, target.AsSpan((int)e.FileOffset, (int)e.Length));
            covered += e.Length;
        }

        return covered == node.Size ? target : throw zone.Corrupt($"{path}: symbolic link inode {node.Ino} has a hole at {covered}");
    }

    /// <summary>The used entries of a directory, each checked: (name, inode, type, zone offset of the entry).</summary>
    private IEnumerable<(byte[] Name, ulong Ino, byte Type, ulong At)> Entries(Format1Node dir, string path)
    {
        var page = new byte[PageSize];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extent in dir.Extents)
        {
            for (ulong p = 0; p < extent.Length / PageSize; p++)
            {
                ulong pageAt = extent.ZoneOffset + (p * PageSize);
                zone.Read(pageAt, page);
                for (int i = 0; i < DirentsPerPage; i++)
                {
                    ulong at = pageAt + DirPageHeader + ((ulong)i * DirentRecordSize);
                    var d = page.AsSpan(DirPageHeader + (i * DirentRecordSize), DirentRecordSize);
                    ulong ino = U64(d, DirentIno);
                    if (ino == 0)
                    {
                        continue;
                    }

                    byte[] name = CheckEntry(path, at, d);
                    if (!seen.Add(Convert.ToHexString(name)))
                    {
                        throw zone.Corrupt($"{path}: entry at zone offset 0x{at:x}: the name '{Encoding.UTF8.GetString(name)}' is there twice");
                    }

                    yield return (name, ino, d[DirentType], at);
                }
            }
        }
    }

    private byte[] CheckEntry(string path, ulong at, ReadOnlySpan<byte> d)
    {
        uint crc = Crc32C.Compute(d[..DirentCrc]);
        string where = $"{path}: entry at zone offset 0x{at:x}";
        if (crc != U32(d, DirentCrc))
        {
            throw zone.Corrupt($"{where}: checksum mismatch (stored 0x{U32(d, DirentCrc):x8}, computed 0x{crc:x8})");
        }

        int length = d[DirentNameLen];
        var name = d.Slice(DirentName, length);
        if (length == 0 || name.SequenceEqual("."u8) || name.SequenceEqual(".."u8) || name.IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            throw zone.Corrupt($"{where}: invalid name (length {length})");
        }

        if (Crc32C.Compute(name) != U32(d, DirentHash))
        {
            throw zone.Corrupt($"{where}: the name's hash does not match it");
        }

        return name.ToArray();
    }

    /// <summary>
    /// Collects the allocated ranges of [0, <paramref name="size"/>) of a file from its page table,
    /// checking every node and frame and marking every page it follows.
    /// </summary>
    private void Extents(Format1Node node, ulong root, int depth, ulong size, string path)
    {
        if (depth == 0)
        {
            return;
        }

        ulong limit = Math.Min(size, LevelSpan(depth) * PtEntries);
        Claim(node.Ino, path, root, PageSize, zone.RegionOffset(RegionInodeTable) + (node.Ino * InodeRecordSize));
        Walk(node, path, root, depth, 0, limit);
    }

    private void Walk(Format1Node node, string path, ulong table, int level, ulong start, ulong limit)
    {
        var entries = new byte[PageSize];
        zone.Read(table, entries);
        ulong span = LevelSpan(level);
        for (int i = 0; i < PtEntries && start + ((ulong)i * span) < limit; i++)
        {
            ulong at = table + ((ulong)i * 8);
            ulong e = U64(entries, i * 8);
            ulong from = start + ((ulong)i * span);
            if ((e & PtePresent) == 0)
            {
                continue;
            }

            if ((e & PteHuge) != 0 && level != 2)
            {
                throw zone.Corrupt($"{path}: inode {node.Ino}: page-table entry 0x{e:x16} at zone offset 0x{at:x} has the huge bit below or above the PMD level");
            }

            if ((e & PteHuge) != 0 || level == 1)
            {
                ulong frame = e & ((e & PteHuge) != 0 ? PmdAddrMask : PteAddrMask);
                Claim(node.Ino, path, frame, span, at);
                Add(node, from, frame, Math.Min(span, limit - from));
                continue;
            }

            ulong child = e & PteAddrMask;
            Claim(node.Ino, path, child, PageSize, at);
            Walk(node, path, child, level - 1, from, limit);
        }
    }

    private static ulong LevelSpan(int level) => PageSize << (9 * (level - 1));

    private static void Add(Format1Node node, ulong fileOffset, ulong zoneOffset, ulong length)
    {
        if (node.Extents.Count > 0 && node.Extents[^1] is var last
            && last.FileOffset + last.Length == fileOffset && last.ZoneOffset + last.Length == zoneOffset)
        {
            node.Extents[^1] = last with { Length = last.Length + length };
            return;
        }

        node.Extents.Add(new Format1Extent(fileOffset, zoneOffset, length));
    }

    /// <summary>Checks that [offset, offset + size) is aligned and inside the data region, and that no other place used it.</summary>
    private void Claim(ulong ino, string path, ulong offset, ulong size, ulong where)
    {
        ulong data = zone.DataOffset;
        if (offset % size != 0 || offset < data || offset - data > zone.DataPages * PageSize - size)
        {
            throw zone.Corrupt($"{path}: inode {ino}: page-table entry at zone offset 0x{where:x} points to 0x{offset:x}, outside the data region or misaligned");
        }

        for (ulong page = (offset - data) / PageSize, end = page + (size / PageSize); page < end; page++)
        {
            ref ulong word = ref _usedPages[page / 64];
            ulong bit = 1UL << (int)(page % 64);
            if ((word & bit) != 0)
            {
                throw zone.Corrupt($"{path}: inode {ino}: page-table entry at zone offset 0x{where:x} points to 0x{offset:x}, which another file or table already uses");
            }

            word |= bit;
        }
    }
}
