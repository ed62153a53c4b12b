using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The data file's header (struct sgz_data_header at Z.data byte 0): the zone's uuid and both
/// sizes, so that a guest (and the host) can tell that a data file belongs to its structure
/// file. Written at format and at every writer open; not journalled (it never changes while
/// the zone lives).
/// </summary>
internal static class DataHeader
{
    public static void Write(ZoneMemory memory, in SgzSuperblock sb, ZoneGeometry geometry)
    {
        ref var header = ref memory.Ref<SgzDataHeader>(geometry.ZoneSize);
        var expected = Expected(sb, geometry);
        if (!Same(header, expected))
        {
            header = expected;
        }
    }

    /// <summary>
    /// True when the data file holds another zone's intact header: it is that zone's data, not
    /// this zone's with a scribbled header, and rewriting the header would adopt it.
    /// </summary>
    public static bool IsForeign(ZoneMemory memory, in SgzSuperblock sb, ZoneGeometry geometry)
    {
        var header = memory.Ref<SgzDataHeader>(geometry.ZoneSize);
        return header.Magic == SgzAbi.DataMagic && !UuidOf(header).SequenceEqual(UuidOf(Expected(sb, geometry)));
    }

    /// <summary>What is wrong with the data header, in words, or null when it names this zone.</summary>
    public static string? Problem(ZoneMemory memory, in SgzSuperblock sb, ZoneGeometry geometry)
    {
        var header = memory.Ref<SgzDataHeader>(geometry.ZoneSize);
        if (header.Magic != SgzAbi.DataMagic)
        {
            return "not a Stargate data file (no SGZDATA2 magic at offset 0)";
        }

        var expected = Expected(sb, geometry);
        if (!UuidOf(header).SequenceEqual(UuidOf(expected)))
        {
            return $"the data file belongs to another zone (uuid {new Guid(UuidOf(header))}, the structure file's is {new Guid(UuidOf(expected))})";
        }

        return header.ZoneSize != geometry.ZoneSize || header.DataFileSize != geometry.DataFileSize
            ? $"the data header names sizes {header.ZoneSize} and {header.DataFileSize}, the superblock {geometry.ZoneSize} and {geometry.DataFileSize}"
            : null;
    }

    private static SgzDataHeader Expected(SgzSuperblock sb, ZoneGeometry geometry)
    {
        var header = new SgzDataHeader
        {
            Magic = SgzAbi.DataMagic,
            VersionMajor = SgzAbi.VersionMajor,
            VersionMinor = SgzAbi.VersionMinor,
            ZoneSize = geometry.ZoneSize,
            DataFileSize = geometry.DataFileSize,
        };
        unsafe
        {
            new ReadOnlySpan<byte>(sb.Uuid, 16).CopyTo(new Span<byte>(header.Uuid, 16));
        }

        return header;
    }

    private static unsafe bool Same(in SgzDataHeader a, in SgzDataHeader b)
    {
        fixed (SgzDataHeader* pa = &a)
        {
            fixed (SgzDataHeader* pb = &b)
            {
                return new ReadOnlySpan<byte>(pa, SgzAbi.DataHeaderSize).SequenceEqual(new ReadOnlySpan<byte>(pb, SgzAbi.DataHeaderSize));
            }
        }
    }

    private static unsafe byte[] UuidOf(SgzDataHeader header) => new ReadOnlySpan<byte>(header.Uuid, 16).ToArray();
}
