using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Fsck;

/// <summary>
/// Reads and patches a zone file's bytes directly, as a bug or a bad guest
/// would, without the zone library. Offsets follow the byte maps of
/// interop/include/stargate_zone.h; the page-table walk here is the test's
/// own, so that a corruption lands where the format says, not where the
/// library under test thinks.
/// </summary>
internal static class RawZone
{
    /// <summary>Byte offsets of fields inside struct sgz_superblock, struct sgz_inode and struct sgz_dirent.</summary>
    public static readonly ulong SbVersionMajor = Field<SgzSuperblock>(nameof(SgzSuperblock.VersionMajor));
    public static readonly ulong SbCreatedNs = Field<SgzSuperblock>(nameof(SgzSuperblock.CreatedNs));
    public static readonly ulong SbFreePages = Field<SgzSuperblock>(nameof(SgzSuperblock.FreePages));
    public static readonly ulong SbFreeInodes = Field<SgzSuperblock>(nameof(SgzSuperblock.FreeInodes));

    /// <summary>The superblock crc, over every byte before it.</summary>
    public static readonly ulong SbCrc = Field<SgzSuperblock>(nameof(SgzSuperblock.Crc));
    public static readonly ulong InodeMode = Field<SgzInode>(nameof(SgzInode.Mode));
    public static readonly ulong InodeUid = Field<SgzInode>(nameof(SgzInode.Uid));
    public static readonly ulong InodeNlink = Field<SgzInode>(nameof(SgzInode.Nlink));

    /// <summary>The inode crc, over the host half before it.</summary>
    public static readonly ulong InodeCrc = Field<SgzInode>(nameof(SgzInode.Crc));
    public static readonly ulong DirentIno = Field<SgzDirent>(nameof(SgzDirent.Ino));
    public static readonly ulong DirentReserved1 = Field<SgzDirent>(nameof(SgzDirent.Reserved1));
    public static readonly ulong DirentName = Field<SgzDirent>(nameof(SgzDirent.Name));

    /// <summary>The dirent crc, over every byte before it.</summary>
    public static readonly ulong DirentCrc = Field<SgzDirent>(nameof(SgzDirent.Crc));

    public static T Read<T>(string path, ulong offset)
        where T : unmanaged
    {
        var buffer = new byte[Unsafe.SizeOf<T>()];
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Assert.Equal(buffer.Length, RandomAccess.Read(file, buffer, (long)offset));
        return MemoryMarshal.Read<T>(buffer);
    }

    public static void Write<T>(string path, ulong offset, T value)
        where T : unmanaged
    {
        var buffer = new byte[Unsafe.SizeOf<T>()];
        MemoryMarshal.Write(buffer, in value);
        WriteBytes(path, offset, buffer);
    }

    public static byte[] ReadBytes(string path, ulong offset, int length)
    {
        var buffer = new byte[length];
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Assert.Equal(length, RandomAccess.Read(file, buffer, (long)offset));
        return buffer;
    }

    public static void WriteBytes(string path, ulong offset, ReadOnlySpan<byte> bytes)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        RandomAccess.Write(file, bytes, (long)offset);
    }

    /// <summary>Inverts every bit of one byte.</summary>
    public static void FlipByte(string path, ulong offset) => Write(path, offset, (byte)~Read<byte>(path, offset));

    /// <summary>Rewrites the superblock crc over the bytes before it, so that a patched field is all that is wrong.</summary>
    public static void FixSuperblockCrc(string path) =>
        Write(path, SbCrc, Crc32C.Compute(ReadBytes(path, 0, (int)SbCrc)));

    /// <summary>Rewrites an inode's crc over its host half before the crc.</summary>
    public static void FixInodeCrc(string path, ulong inodeOffset) =>
        Write(path, inodeOffset + InodeCrc, Crc32C.Compute(ReadBytes(path, inodeOffset, (int)InodeCrc)));

    /// <summary>Rewrites a directory entry's crc over the bytes before it.</summary>
    public static void FixDirentCrc(string path, ulong direntOffset) =>
        Write(path, direntOffset + DirentCrc, Crc32C.Compute(ReadBytes(path, direntOffset, (int)DirentCrc)));

    public static SgzInode Inode(string path, ZoneGeometry g, ulong ino) => Read<SgzInode>(path, g.InodeOffset(ino));

    /// <summary>Sets or clears the page's bit in the page bitmap (nothing else).</summary>
    public static void SetPageBit(string path, ZoneGeometry g, ulong page, bool used)
    {
        ulong at = g.PageBitmap.Offset + (page / 64 * 8);
        ulong mask = 1UL << (int)(page % 64);
        ulong word = Read<ulong>(path, at);
        Write(path, at, used ? word | mask : word & ~mask);
    }

    public static bool PageBit(string path, ZoneGeometry g, ulong page) =>
        ((Read<ulong>(path, g.PageBitmap.Offset + (page / 64 * 8)) >> (int)(page % 64)) & 1) != 0;

    public static void SetInodeBit(string path, ZoneGeometry g, ulong ino)
    {
        ulong at = g.InodeBitmap.Offset + (ino / 64 * 8);
        Write(path, at, Read<ulong>(path, at) | (1UL << (int)(ino % 64)));
    }

    public static bool InodeBit(string path, ZoneGeometry g, ulong ino) =>
        ((Read<ulong>(path, g.InodeBitmap.Offset + (ino / 64 * 8)) >> (int)(ino % 64)) & 1) != 0;

    /// <summary>
    /// The zone offset of the leaf entry (a level-1 PTE, or a level-2 entry with
    /// SGZ_PTE_HUGE) that maps <paramref name="fileOffset"/> of inode <paramref name="ino"/>.
    /// </summary>
    public static ulong LeafEntryOffset(string path, ZoneGeometry g, ulong ino, ulong fileOffset)
    {
        var inode = Inode(path, g, ino);
        Assert.True(inode.PtDepth is >= 1 and <= SgzAbi.PtMaxDepth, $"inode {ino} has no page table (depth {inode.PtDepth})");
        ulong node = inode.PtRoot;
        for (int level = inode.PtDepth; ; level--)
        {
            ulong span = (ulong)SgzAbi.PageSize << (9 * (level - 1));
            ulong at = node + (fileOffset / span % SgzAbi.PtEntries * 8);
            ulong e = Read<ulong>(path, at);
            Assert.True((e & SgzAbi.PtePresent) != 0, $"inode {ino}: offset {fileOffset} is a hole (entry at 0x{at:x})");
            if (level == 1 || (e & SgzAbi.PteHuge) != 0)
            {
                return at;
            }

            node = e & SgzAbi.PteAddrMask;
        }
    }

    /// <summary>The zone offset of the 4 KiB data page that holds <paramref name="fileOffset"/>.</summary>
    public static ulong DataPageOffset(string path, ZoneGeometry g, ulong ino, ulong fileOffset)
    {
        ulong e = Read<ulong>(path, LeafEntryOffset(path, g, ino, fileOffset));
        return (e & SgzAbi.PteHuge) != 0
            ? (e & SgzAbi.PmdAddrMask) + (fileOffset % SgzAbi.ChunkSize / SgzAbi.PageSize * SgzAbi.PageSize)
            : e & SgzAbi.PteAddrMask;
    }

    /// <summary>Zone offsets of every slot of a directory, in file order (free slots included).</summary>
    public static IEnumerable<ulong> DirectorySlots(string path, ZoneGeometry g, ulong dirIno)
    {
        var dir = Inode(path, g, dirIno);
        for (ulong p = 0; p < dir.Size / SgzAbi.PageSize; p++)
        {
            ulong page = DataPageOffset(path, g, dirIno, p * SgzAbi.PageSize);
            for (ulong i = 0; i < SgzAbi.DirentsPerPage; i++)
            {
                yield return page + SgzAbi.DirPageHeader + (i * SgzAbi.DirentSize);
            }
        }
    }

    /// <summary>The zone offset of the slot that holds <paramref name="name"/> in a directory.</summary>
    public static ulong DirentOffset(string path, ZoneGeometry g, ulong dirIno, string name)
    {
        byte[] wanted = System.Text.Encoding.UTF8.GetBytes(name);
        foreach (ulong at in DirectorySlots(path, g, dirIno))
        {
            var d = Read<SgzDirent>(path, at);
            if (d.Ino != 0 && d.NameLen == wanted.Length && ReadBytes(path, at + DirentName, wanted.Length).AsSpan().SequenceEqual(wanted))
            {
                return at;
            }
        }

        throw new InvalidOperationException($"directory inode {dirIno} has no entry '{name}'");
    }

    /// <summary>The zone offset of the last free slot in a directory's existing pages.</summary>
    public static ulong LastFreeSlot(string path, ZoneGeometry g, ulong dirIno) =>
        DirectorySlots(path, g, dirIno).Last(at => Read<ulong>(path, at + DirentIno) == 0);

    private static ulong Field<T>(string name)
        where T : unmanaged => (ulong)Marshal.OffsetOf<T>(name);
}
