using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>The superblock's identity (magic, major version, size) and its crc, checked before any offset from it is used.</summary>
internal static class SuperblockSeal
{
    /// <summary>Verifies magic, major version and superblock checksum, with messages that name what is wrong.</summary>
    public static void Check(in SgzSuperblock sb, string path)
    {
        CheckIdentity(sb, path);
        uint crc = Crc(sb);
        if (crc != sb.Crc)
        {
            throw new ZoneCorruptException(
                $"{path}: superblock checksum mismatch at offset 0x{SgzAbi.SuperblockCrcOffset:x} (stored 0x{sb.Crc:x8}, computed 0x{crc:x8}); run 'stargate zone fsck'");
        }
    }

    /// <summary>Magic, major version and superblock size only: what must hold before the data file is even looked for.</summary>
    public static void CheckIdentity(in SgzSuperblock sb, string path)
    {
        if (sb.Magic != SgzAbi.Magic)
        {
            throw new ZoneException(ZoneError.NotAZone, $"{path} is not a Stargate zone (no STARGATE magic at offset 0)");
        }

        if (sb.VersionMajor > SgzAbi.VersionMajor)
        {
            throw new ZoneException(ZoneError.VersionTooNew,
                $"{path} has zone format {sb.VersionMajor}.{sb.VersionMinor}; this stargate reads format {SgzAbi.VersionMajor}.x only: upgrade stargate");
        }

        if (sb.VersionMajor < SgzAbi.VersionMajor)
        {
            throw new ZoneException(ZoneError.VersionUnsupported,
                $"{path}: zone format {sb.VersionMajor}.{sb.VersionMinor} is not supported by this stargate (format {SgzAbi.VersionMajor}.{SgzAbi.VersionMinor}); move its files into a new zone with 'stargate zone migrate {path} NEW'");
        }

        if (sb.VersionMajor == 2 && sb.VersionMinor == 0)
        {
            throw new ZoneException(ZoneError.VersionUnsupported,
                $"{path}: zone format 2.0 (a step of format 2 that kept the request rings where every guest writes) is not supported by this stargate (format {SgzAbi.VersionMajor}.{SgzAbi.VersionMinor}); recreate it with 'stargate zone create'");
        }

        if (sb.SbSize != SgzAbi.SuperblockSize)
        {
            throw new ZoneCorruptException($"{path}: superblock size field is {sb.SbSize}, expected {SgzAbi.SuperblockSize}");
        }
    }

    public static unsafe uint Crc(in SgzSuperblock sb)
    {
        fixed (SgzSuperblock* p = &sb)
        {
            return Crc32C.Compute(new ReadOnlySpan<byte>(p, SgzAbi.SuperblockCrcOffset));
        }
    }
}
