using System.Buffers.Binary;
using System.Text;
using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The xattr block's layout (stargate_zone.h "An xattr block", docs/zone-format.md "Extended
/// attributes"): decoding with every check a reader makes, encoding, and the split of a full
/// name into namespace and name. Pure functions.
/// </summary>
public static class XattrBlock
{
    /// <summary>Bytes for entries after the header: all of an inode's names and values together.</summary>
    public const int Room = SgzAbi.XattrBlockSize - SgzAbi.XattrHeaderSize;

    private const int CrcStart = 8;

    public static string Prefix(int index) => index switch
    {
        SgzAbi.XattrUser => "user.",
        SgzAbi.XattrTrusted => "trusted.",
        SgzAbi.XattrSecurity => "security.",
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "no such xattr namespace"),
    };

    public static int EntrySize(int nameLength, int valueLength) => (SgzAbi.XattrEntrySize + nameLength + valueLength + 3) & ~3;

    /// <summary>
    /// Splits a full name into its namespace and the name after the prefix. Names longer than
    /// SGZ_XATTR_NAME_MAX give NameTooLong; an empty name after a known prefix InvalidArgument;
    /// any other namespace (system.posix_acl_* included) NotSupported, as Linux does for a
    /// namespace a file system has no handler for.
    /// </summary>
    public static (int Index, byte[] Name) Split(ReadOnlySpan<byte> fullName)
    {
        if (fullName.Length > SgzAbi.XattrNameMax)
        {
            throw new ZoneException(ZoneError.NameTooLong, $"xattr name of {fullName.Length} bytes (at most {SgzAbi.XattrNameMax})");
        }

        if (fullName.IndexOf((byte)0) >= 0)
        {
            throw new ZoneException(ZoneError.InvalidArgument, "xattr name has a NUL in it");
        }

        foreach (int index in (ReadOnlySpan<int>)[SgzAbi.XattrUser, SgzAbi.XattrTrusted, SgzAbi.XattrSecurity])
        {
            byte[] prefix = Encoding.ASCII.GetBytes(Prefix(index));
            if (fullName.StartsWith(prefix))
            {
                return fullName.Length > prefix.Length
                    ? (index, fullName[prefix.Length..].ToArray())
                    : throw new ZoneException(ZoneError.InvalidArgument, $"xattr name '{Prefix(index)}' has nothing after its namespace");
            }
        }

        throw new ZoneException(ZoneError.NotSupported, $"xattr '{Encoding.UTF8.GetString(fullName)}': only the user., trusted. and security. namespaces are kept (no POSIX ACLs)");
    }

    /// <summary>
    /// The entries of the block in <paramref name="block"/> (a copy), which inode
    /// <paramref name="ino"/> of <paramref name="generation"/> names: every check a guest makes
    /// (magic, owner, count, used, crc, each entry inside used, known namespace, no empty name);
    /// a block that fails one is corrupt.
    /// </summary>
    public static List<XattrEntry> Decode(ReadOnlySpan<byte> block, ulong ino, uint generation, string where)
    {
        if (block.Length != SgzAbi.XattrBlockSize)
        {
            throw new ArgumentException("an xattr block is one page", nameof(block));
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(block);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(block[8..]);
        int used = BinaryPrimitives.ReadUInt16LittleEndian(block[10..]);
        ulong owner = BinaryPrimitives.ReadUInt64LittleEndian(block[16..]);
        uint ownerGeneration = BinaryPrimitives.ReadUInt32LittleEndian(block[24..]);
        if (magic != SgzAbi.XattrMagic || owner != ino || ownerGeneration != generation || used > Room || count == 0)
        {
            throw new ZoneCorruptException($"{where}: xattr block of inode {ino} has magic 0x{magic:x8}, owner {owner} generation {ownerGeneration}, {count} entries in {used} bytes");
        }

        uint computed = Crc32C.Compute(block[CrcStart..(SgzAbi.XattrHeaderSize + used)]);
        if (computed != crc)
        {
            throw new ZoneCorruptException($"{where}: xattr block of inode {ino}: checksum mismatch (stored 0x{crc:x8}, computed 0x{computed:x8})");
        }

        var entries = new List<XattrEntry>(count);
        var rest = block.Slice(SgzAbi.XattrHeaderSize, used);
        for (int i = 0; i < count; i++)
        {
            if (rest.Length < SgzAbi.XattrEntrySize)
            {
                throw new ZoneCorruptException($"{where}: xattr block of inode {ino}: entry {i} of {count} lies past used ({used} bytes)");
            }

            int index = rest[0];
            int nameLength = rest[1];
            int valueLength = BinaryPrimitives.ReadUInt16LittleEndian(rest[2..]);
            int size = EntrySize(nameLength, valueLength);
            if (index is < SgzAbi.XattrUser or > SgzAbi.XattrSecurity || nameLength == 0 || size > rest.Length)
            {
                throw new ZoneCorruptException($"{where}: xattr block of inode {ino}: entry {i} (namespace {index}, name {nameLength} bytes, value {valueLength} bytes) is malformed or lies past used");
            }

            byte[] name = rest.Slice(SgzAbi.XattrEntrySize, nameLength).ToArray();
            if (entries.Exists(e => e.Index == index && name.AsSpan().SequenceEqual(e.Name)))
            {
                throw new ZoneCorruptException($"{where}: xattr block of inode {ino}: entry {i} repeats a name");
            }

            entries.Add(new XattrEntry(index, name, rest.Slice(SgzAbi.XattrEntrySize + nameLength, valueLength).ToArray()));
            rest = rest[size..];
        }

        return rest.Length == 0
            ? entries
            : throw new ZoneCorruptException($"{where}: xattr block of inode {ino}: {rest.Length} bytes of used lie past the last entry");
    }

    /// <summary>Bytes all <paramref name="entries"/> take in a block.</summary>
    public static int Used(IEnumerable<XattrEntry> entries) => entries.Sum(e => e.Size);

    /// <summary>Writes a whole block holding <paramref name="entries"/> (at least one, within <see cref="Room"/>) into <paramref name="block"/>.</summary>
    public static void Encode(Span<byte> block, IReadOnlyList<XattrEntry> entries, ulong ino, uint generation)
    {
        int used = Used(entries);
        if (entries.Count == 0 || used > Room || block.Length != SgzAbi.XattrBlockSize)
        {
            throw new ArgumentException($"{entries.Count} entries of {used} bytes do not make a block", nameof(entries));
        }

        block.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block, SgzAbi.XattrMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(block[8..], (ushort)entries.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(block[10..], (ushort)used);
        BinaryPrimitives.WriteUInt64LittleEndian(block[16..], ino);
        BinaryPrimitives.WriteUInt32LittleEndian(block[24..], generation);
        var at = block[SgzAbi.XattrHeaderSize..];
        foreach (var e in entries)
        {
            at[0] = (byte)e.Index;
            at[1] = (byte)e.Name.Length;
            BinaryPrimitives.WriteUInt16LittleEndian(at[2..], (ushort)e.Value.Length);
            e.Name.CopyTo(at[SgzAbi.XattrEntrySize..]);
            e.Value.CopyTo(at[(SgzAbi.XattrEntrySize + e.Name.Length)..]);
            at = at[e.Size..];
        }

        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], Crc32C.Compute(block[CrcStart..(SgzAbi.XattrHeaderSize + used)]));
    }
}
