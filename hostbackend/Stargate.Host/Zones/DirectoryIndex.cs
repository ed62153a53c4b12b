using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// A directory's index (format 2.2; layout: struct sgz_dir_index and struct sgz_dir_bucket):
/// an extendible hash of (name hash, slot) pairs in pool pages the directory owns. A lookup
/// reads the root and one bucket page (more only when names share a hash past the root's
/// full depth); an insert or remove writes one pair, and at worst splits one bucket (two
/// pages and a few root words), so every change journals a few KiB whatever the size.
/// </summary>
/// <remarks>
/// Invariants it owns: the root's entries name bucket pages in the pool whose local depth is
/// at most the root's and whose pairs agree with every entry that names them on that many
/// low bits; overflow pages (next) only at <see cref="SgzAbi.DiridxMaxDepth"/>; the root's
/// pages and entries count every page and pair, and the directory's pages count the index's
/// pages. Called with the zone's lock held, writes inside a change, always after the
/// directory's inode was taken for write (its seqcount odd), so that a guest reading the
/// index under the seqcount retries instead of using a half-written page.
/// </remarks>
internal sealed class DirectoryIndex(string path, ZoneMemory memory, ZoneGeometry geometry, ZoneWriter writer, InodeTable inodes, Allocator allocator)
{
    private const int Pairs = SgzAbi.DiridxBucketPairs;
    private const int MaxDepth = SgzAbi.DiridxMaxDepth;
    private static readonly ulong CountOffset = (ulong)Marshal.OffsetOf<SgzDirBucket>(nameof(SgzDirBucket.Count));
    private static readonly ulong NextOffset = (ulong)Marshal.OffsetOf<SgzDirBucket>(nameof(SgzDirBucket.Next));
    private static readonly ulong PairsOffset = (ulong)Marshal.OffsetOf<SgzDirBucket>(nameof(SgzDirBucket.Pairs));
    private static readonly ulong RootEntriesOffset = (ulong)Marshal.OffsetOf<SgzDirIndex>(nameof(SgzDirIndex.Entries));
    private static readonly ulong RootPagesOffset = (ulong)Marshal.OffsetOf<SgzDirIndex>(nameof(SgzDirIndex.Pages));
    private static readonly ulong BucketTableOffset = (ulong)Marshal.OffsetOf<SgzDirIndex>(nameof(SgzDirIndex.Bucket));

    /// <summary>The zone offset of the page named by page number <paramref name="number"/>, checked to be a pool page.</summary>
    public static bool TryPage(ZoneGeometry geometry, uint number, out ulong offset)
    {
        offset = (ulong)number << SgzAbi.PageShift;
        return number != 0 && offset >= geometry.Data.Offset && geometry.IsPoolPage(geometry.PageIndex(offset));
    }

    /// <summary>The slot whose pair has <paramref name="hash"/> and for which <paramref name="matches"/> holds, or null.</summary>
    public ulong? Find(ulong dirIno, ulong root, uint hash, Func<ulong, bool> matches)
    {
        CheckRoot(dirIno, root);
        ulong page = BucketOf(dirIno, root, hash);
        uint limit = memory.Ref<SgzDirIndex>(root).Pages;
        for (uint hops = 0; page != 0; hops++)
        {
            if (hops >= limit)
            {
                throw Corrupt(dirIno, root, "has an overflow chain longer than its pages");
            }

            var pairs = PairWords(page);
            for (int i = 0; i < pairs.Length; i++)
            {
                if ((uint)pairs[i] == hash && matches(pairs[i] >> 32))
                {
                    return pairs[i] >> 32;
                }
            }

            uint next = memory.Ref<SgzDirBucket>(page).Next;
            page = next == 0 ? 0 : NextPage(dirIno, root, page, next);
        }

        return null;
    }

    /// <summary>Builds the index of a directory that has none, from its live slots; returns the root's zone offset.</summary>
    public ulong Build(ulong dirIno, IEnumerable<(uint Hash, ulong Slot)> slots, int peerSlot)
    {
        ulong root = NewPage(dirIno, peerSlot);
        ulong bucket = NewPage(dirIno, peerSlot);
        ref var r = ref writer.RecordForWrite<SgzDirIndex>(root);
        r.Magic = SgzAbi.DiridxMagic;
        r.Depth = 0;
        r.Pages = 2;
        r.Entries = 0;
        unsafe
        {
            r.Bucket[0] = PageNumber(bucket);
        }

        ref var b = ref writer.RecordForWrite<SgzDirBucket>(bucket);
        b.Magic = SgzAbi.DiridxBucketMagic;
        b.Depth = 0;
        inodes.ForWrite(dirIno).IndexRoot = root;
        foreach (var (hash, slot) in slots)
        {
            Insert(dirIno, root, hash, slot, peerSlot);
        }

        return root;
    }

    /// <summary>Adds the pair (<paramref name="hash"/>, <paramref name="slot"/>), splitting a full bucket or chaining at full depth.</summary>
    public void Insert(ulong dirIno, ulong root, uint hash, ulong slot, int peerSlot)
    {
        CheckRoot(dirIno, root);
        for (int tries = 0; tries <= MaxDepth + 1; tries++)
        {
            ref readonly var r = ref memory.Ref<SgzDirIndex>(root);
            ulong bucket = BucketOf(dirIno, root, hash);
            ref readonly var b = ref memory.Ref<SgzDirBucket>(bucket);
            if (b.Count < Pairs)
            {
                Append(bucket, hash, slot);
                AddToRoot(root, RootEntriesOffset, +1);
                return;
            }

            if (b.Depth >= MaxDepth)
            {
                AppendToChain(dirIno, root, bucket, hash, slot, peerSlot);
                AddToRoot(root, RootEntriesOffset, +1);
                return;
            }

            if (b.Depth == r.Depth)
            {
                DoubleRoot(root);
            }

            Split(dirIno, root, bucket, peerSlot);
        }

        throw Corrupt(dirIno, root, "a full bucket did not split");
    }

    /// <summary>Removes the pair (<paramref name="hash"/>, <paramref name="slot"/>); an index without it is corrupt.</summary>
    public void Remove(ulong dirIno, ulong root, uint hash, ulong slot)
    {
        CheckRoot(dirIno, root);
        ulong previous = 0;
        ulong page = BucketOf(dirIno, root, hash);
        for (uint hops = 0; hops <= memory.Ref<SgzDirIndex>(root).Pages; hops++)
        {
            ref readonly var b = ref memory.Ref<SgzDirBucket>(page);
            int i = slot <= uint.MaxValue ? PairWords(page).IndexOf((slot << 32) | hash) : -1;
            if (i >= 0)
            {
                int last = b.Count - 1;
                if (i != last)
                {
                    var moved = memory.Span(page + PairsOffset + ((ulong)last * 8), 8).ToArray();
                    moved.CopyTo(writer.BytesForWrite(page + PairsOffset + ((ulong)i * 8), 8));
                }

                writer.BytesForWrite(page + PairsOffset + ((ulong)last * 8), 8).Clear();
                MemoryMarshal.Write(writer.BytesForWrite(page + CountOffset, 2), (ushort)last);
                AddToRoot(root, RootEntriesOffset, -1);
                if (last == 0 && previous != 0)
                {
                    // An empty overflow page leaves the chain.
                    MemoryMarshal.Write(writer.BytesForWrite(previous + NextOffset, 4), b.Next);
                    FreePage(dirIno, page);
                    AddToRoot(root, RootPagesOffset, -1);
                }

                return;
            }

            if (b.Next == 0)
            {
                break;
            }

            previous = page;
            page = NextPage(dirIno, root, page, b.Next);
        }

        throw Corrupt(dirIno, root, $"holds no pair for slot {slot} (hash 0x{hash:x8})");
    }

    /// <summary>Frees every page of the index and clears the directory's index_root.</summary>
    public void Drop(ulong dirIno, ulong root)
    {
        foreach (ulong page in PagesOf(dirIno, root))
        {
            FreePage(dirIno, page);
        }

        inodes.ForWrite(dirIno).IndexRoot = 0;
    }

    /// <summary>Every page of the index, root first, each once (checked as it goes).</summary>
    public List<ulong> PagesOf(ulong dirIno, ulong root)
    {
        CheckRoot(dirIno, root);
        var seen = new HashSet<ulong> { root };
        var pages = new List<ulong> { root };
        ref readonly var r = ref memory.Ref<SgzDirIndex>(root);
        for (int i = 0; i < 1 << r.Depth; i++)
        {
            ulong page = Bucket(dirIno, root, i);
            while (page != 0 && seen.Add(page))
            {
                pages.Add(page);
                uint next = memory.Ref<SgzDirBucket>(page).Next;
                page = next == 0 ? 0 : NextPage(dirIno, root, page, next);
            }
        }

        return pages;
    }

    /// <summary>Every pair of the index: its hash, slot, and the page it is in.</summary>
    public IEnumerable<(uint Hash, ulong Slot, ulong Page)> PairsOf(ulong dirIno, ulong root)
    {
        foreach (ulong page in PagesOf(dirIno, root).Skip(1))
        {
            var b = memory.Ref<SgzDirBucket>(page);
            for (int i = 0; i < b.Count; i++)
            {
                yield return (PairHash(page, i), PairSlot(page, i), page);
            }
        }
    }

    private ulong BucketOf(ulong dirIno, ulong root, uint hash)
    {
        int depth = memory.Ref<SgzDirIndex>(root).Depth;
        return Bucket(dirIno, root, (int)(hash & ((1u << depth) - 1)));
    }

    private ulong Bucket(ulong dirIno, ulong root, int i)
    {
        uint number = memory.Ref<uint>(root + BucketTableOffset + ((ulong)i * 4));
        if (!TryPage(geometry, number, out ulong page))
        {
            throw Corrupt(dirIno, root, $"entry {i} names page {number}, outside the structure pool");
        }

        CheckBucket(dirIno, root, page);
        return page;
    }

    private ulong NextPage(ulong dirIno, ulong root, ulong from, uint next)
    {
        if (!TryPage(geometry, next, out ulong page))
        {
            throw Corrupt(dirIno, root, $"bucket at 0x{from:x} chains page {next}, outside the structure pool");
        }

        CheckBucket(dirIno, root, page);
        return page;
    }

    private void CheckRoot(ulong dirIno, ulong root)
    {
        ref readonly var r = ref memory.Ref<SgzDirIndex>(root);
        if (r.Magic != SgzAbi.DiridxMagic || r.Depth > MaxDepth)
        {
            throw Corrupt(dirIno, root, $"root has magic 0x{r.Magic:x8} and depth {r.Depth}");
        }
    }

    private void CheckBucket(ulong dirIno, ulong root, ulong page)
    {
        ref readonly var b = ref memory.Ref<SgzDirBucket>(page);
        if (b.Magic != SgzAbi.DiridxBucketMagic || b.Count > Pairs || b.Depth > MaxDepth)
        {
            throw Corrupt(dirIno, root, $"bucket at 0x{page:x} has magic 0x{b.Magic:x8}, depth {b.Depth}, count {b.Count}");
        }
    }

    private void DoubleRoot(ulong root)
    {
        var r = memory.Ref<SgzDirIndex>(root);
        int half = 1 << r.Depth;
        var entries = memory.Span(root + BucketTableOffset, (ulong)half * 4).ToArray();
        entries.CopyTo(writer.BytesForWrite(root + BucketTableOffset + ((ulong)half * 4), (ulong)half * 4));
        writer.RecordForWrite<byte>(root + (ulong)Marshal.OffsetOf<SgzDirIndex>(nameof(SgzDirIndex.Depth))) = (byte)(r.Depth + 1);
    }

    /// <summary>Splits a full bucket on its next hash bit: the pairs with that bit set move to a new page.</summary>
    private void Split(ulong dirIno, ulong root, ulong bucket, int peerSlot)
    {
        var old = memory.Ref<SgzDirBucket>(bucket);
        int bit = old.Depth;
        ulong fresh = NewPage(dirIno, peerSlot);
        AddToRoot(root, RootPagesOffset, +1);
        var keep = new List<(uint, uint)>(Pairs);
        var move = new List<(uint, uint)>(Pairs);
        for (int i = 0; i < old.Count; i++)
        {
            uint h = PairHash(bucket, i);
            ((h >> bit & 1) == 0 ? keep : move).Add((h, (uint)PairSlot(bucket, i)));
        }

        WriteBucket(bucket, (byte)(bit + 1), keep);
        WriteBucket(fresh, (byte)(bit + 1), move);
        var r = memory.Ref<SgzDirIndex>(root);
        uint oldNumber = PageNumber(bucket);
        uint freshNumber = PageNumber(fresh);
        for (int i = 0; i < 1 << r.Depth; i++)
        {
            ulong at = root + BucketTableOffset + ((ulong)i * 4);
            if (memory.Ref<uint>(at) == oldNumber && (i >> bit & 1) == 1)
            {
                MemoryMarshal.Write(writer.BytesForWrite(at, 4), freshNumber);
            }
        }
    }

    private void WriteBucket(ulong page, byte depth, List<(uint Hash, uint Slot)> pairs)
    {
        ref var b = ref writer.RecordForWrite<SgzDirBucket>(page);
        b.Magic = SgzAbi.DiridxBucketMagic;
        b.Depth = depth;
        b.Count = (ushort)pairs.Count;
        b.Next = 0;
        var span = memory.Span(page + PairsOffset, Pairs * 8UL);
        span.Clear();
        for (int i = 0; i < pairs.Count; i++)
        {
            MemoryMarshal.Write(span[(i * 8)..], pairs[i].Hash);
            MemoryMarshal.Write(span[((i * 8) + 4)..], pairs[i].Slot);
        }
    }

    private void AppendToChain(ulong dirIno, ulong root, ulong bucket, uint hash, ulong slot, int peerSlot)
    {
        ulong page = bucket;
        for (uint hops = 0; ; hops++)
        {
            if (hops > memory.Ref<SgzDirIndex>(root).Pages)
            {
                throw Corrupt(dirIno, root, "has an overflow chain longer than its pages");
            }

            ref readonly var b = ref memory.Ref<SgzDirBucket>(page);
            if (b.Count < Pairs)
            {
                Append(page, hash, slot);
                return;
            }

            if (b.Next == 0)
            {
                break;
            }

            page = NextPage(dirIno, root, page, b.Next);
        }

        ulong fresh = NewPage(dirIno, peerSlot);
        AddToRoot(root, RootPagesOffset, +1);
        WriteBucket(fresh, (byte)MaxDepth, [((uint)hash, (uint)slot)]);
        MemoryMarshal.Write(writer.BytesForWrite(page + NextOffset, 4), PageNumber(fresh));
    }

    private void Append(ulong page, uint hash, ulong slot)
    {
        ushort count = memory.Ref<SgzDirBucket>(page).Count;
        var pair = writer.BytesForWrite(page + PairsOffset + ((ulong)count * 8), 8);
        MemoryMarshal.Write(pair, hash);
        MemoryMarshal.Write(pair[4..], (uint)slot);
        MemoryMarshal.Write(writer.BytesForWrite(page + CountOffset, 2), (ushort)(count + 1));
    }

    private void AddToRoot(ulong root, ulong field, int delta)
    {
        uint now = memory.Ref<uint>(root + field);
        MemoryMarshal.Write(writer.BytesForWrite(root + field, 4), (uint)(now + delta));
    }

    /// <summary>
    /// A checked bucket's pairs in use, each as one word: the name hash in its low half and
    /// the slot in its high half (the zone is little-endian, as this host). Scanning words, not
    /// a copy of the page, keeps a lookup in a big directory to the cache lines it reads.
    /// </summary>
    private ReadOnlySpan<ulong> PairWords(ulong page) =>
        MemoryMarshal.Cast<byte, ulong>(memory.Span(page + PairsOffset, (ulong)memory.Ref<SgzDirBucket>(page).Count * 8));

    private uint PairHash(ulong page, int i) => memory.Ref<uint>(page + PairsOffset + ((ulong)i * 8));

    private ulong PairSlot(ulong page, int i) => memory.Ref<uint>(page + PairsOffset + ((ulong)i * 8) + 4);

    private ulong NewPage(ulong dirIno, int peerSlot)
    {
        ulong page = allocator.AllocatePage(peerSlot, Allocator.NoChunk, PageKind.Pool);
        inodes.ForWrite(dirIno).Pages++;
        ulong offset = geometry.PageOffset(page);

        // Free space reads as zeros, except just after fsck --repair rebuilt the bitmaps (which
        // frees what it finds unreachable without clearing it) and builds indexes again.
        if (memory.Span(offset, ZoneGeometry.PageSize).ContainsAnyExcept((byte)0))
        {
            writer.BytesForWrite(offset, ZoneGeometry.PageSize).Clear();
        }

        return offset;
    }

    private void FreePage(ulong dirIno, ulong offset)
    {
        allocator.FreePages(geometry.PageIndex(offset), 1);
        inodes.ForWrite(dirIno).Pages--;
    }

    private static uint PageNumber(ulong offset) => (uint)(offset >> SgzAbi.PageShift);

    private ZoneCorruptException Corrupt(ulong dirIno, ulong root, string problem) =>
        new($"{path}: directory inode {dirIno}: index at zone offset 0x{root:x} {problem}; run 'stargate zone fsck --repair'");
}
