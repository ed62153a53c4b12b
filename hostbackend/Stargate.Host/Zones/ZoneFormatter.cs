using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// Formatting. Only the superblock, the journal header, a few bitmap bits, the root
/// inode and the data header are written: both new files are sparse and read as zeros,
/// which is what every other region means when empty, so a 64 GiB zone formats in
/// milliseconds and costs no memory until it is filled.
/// </summary>
internal static class ZoneFormatter
{
    /// <summary>
    /// Creates and formats a zone whose data file Z.data is <paramref name="size"/> bytes (a power
    /// of two) and whose structure file Z (<paramref name="path"/>) is sized for it: never one a
    /// live writer has open. Both files end up mode 0600, or 0660 owned by
    /// <paramref name="group"/>, whatever the umask, and over existing files (force) too:
    /// a zone is never readable by every local user.
    /// </summary>
    public static ZoneGeometry Format(string path, ulong size, bool force = false, uint? group = null)
    {
        var geometry = ZoneGeometry.ForSize(size);
        string dataPath = ZoneFiles.DataPath(path);
        var mode = force ? ZoneFile.Mode.CreateOrOpen : ZoneFile.Mode.CreateNew;
        using var file = ZoneFile.Open(path, mode);

        // Never format a zone that a live writer has open (the lock goes with the structure file).
        WriterLock.Take(file, path);
        Protect(file, path, group);
        bool createdData = false;
        try
        {
            if (!force && File.Exists(dataPath))
            {
                throw new ZoneException(ZoneError.Exists, $"{dataPath} already exists; pass --force to format over it (its contents are lost)");
            }

            using var dataFile = ZoneFile.Open(dataPath, mode);
            createdData = true;
            Protect(dataFile, dataPath, group);
            Size(file, path, geometry.ZoneSize);
            Size(dataFile, dataPath, geometry.DataFileSize);
            using var memory = new ZoneMemory(file, geometry.ZoneSize, dataFile, geometry.DataFileSize, writable: true, path);
            Write(memory, geometry);
            memory.Flush(path);
        }
        catch when (!force)
        {
            // A new zone that could not be made leaves nothing behind.
            File.Delete(path);
            if (createdData)
            {
                File.Delete(dataPath);
            }

            throw;
        }

        return geometry;
    }

    /// <summary>A fresh length over an empty file: every byte reads as zero and none is allocated.</summary>
    private static void Size(Microsoft.Win32.SafeHandles.SafeFileHandle file, string path, ulong size)
    {
        try
        {
            RandomAccess.SetLength(file, 0);
            RandomAccess.SetLength(file, (long)size);
        }
        catch (IOException e)
        {
            throw new ZoneException(ZoneError.NoSpace, $"{path}: cannot size the file to {Units.Bytes(size)}: {e.Message}");
        }
    }

    private static void Write(ZoneMemory memory, ZoneGeometry geometry)
    {
        ulong now = ZoneClock.NowNs();
        new Journal(memory, geometry.Journal).Format();

        // Inode 0 is never used; inode 1 is the root.
        memory.Ref<ulong>(geometry.InodeBitmap.Offset) = 0b11;
        ref var root = ref memory.Ref<SgzInode>(geometry.InodeOffset(SgzAbi.RootIno));
        root.Mode = SgzAbi.SIfdir | Names.DefaultDirMode;
        root.Uid = Libc.Getuid();
        root.Gid = Libc.Getgid();
        root.Nlink = 2;
        root.Generation = 1;
        root.Parent = SgzAbi.RootIno;
        root.BtimeNs = root.MtimeNs = root.CtimeNs = root.AtimeNs = now;
        root.Crc = InodeTable.Crc(root);

        // The header chunks (data header, rings, hints) are in use for good: never allocated.
        ulong firstHeaderPage = (ulong)geometry.PoolChunks * SgzAbi.PagesPerChunk;
        var bits = memory.Span<ulong>(geometry.PageBitmap.Offset + (firstHeaderPage / 8), (ulong)geometry.HeaderChunks * SgzAbi.PagesPerChunk / 64);
        bits.Fill(ulong.MaxValue);
        memory.Span<ushort>(geometry.ChunkUsage.Offset + (geometry.PoolChunks * 2UL), geometry.HeaderChunks).Fill(SgzAbi.PagesPerChunk);

        ref var sb = ref memory.Ref<SgzSuperblock>(0);
        sb.VersionMajor = SgzAbi.VersionMajor;
        sb.VersionMinor = SgzAbi.VersionMinor;
        sb.SbSize = SgzAbi.SuperblockSize;
        geometry.WriteTo(ref sb);
        unsafe
        {
            fixed (byte* uuid = sb.Uuid)
            {
                Guid.NewGuid().TryWriteBytes(new Span<byte>(uuid, 16));
            }
        }

        sb.CreatedNs = now;
        sb.RootIno = SgzAbi.RootIno;
        sb.FreePages = geometry.FileDataPages;
        sb.FreeInodes = geometry.InodeCount - 2;
        sb.InodeHint = SgzAbi.RootIno + 1;
        sb.Flags = SgzAbi.SbClean;
        DataHeader.Write(memory, sb, geometry);
        GracePeriod.Format(memory, geometry);

        // Magic and crc last: a format cut short is "not a zone", never half of one.
        sb.Magic = SgzAbi.Magic;
        sb.Crc = SuperblockSeal.Crc(sb);
    }

    /// <summary>The group first, then the mode: group bits are never granted to the old group.</summary>
    private static void Protect(Microsoft.Win32.SafeHandles.SafeFileHandle file, string path, uint? group)
    {
        int fd = (int)file.DangerousGetHandle();
        if (group is uint gid && Sys.ErrnoOf(Libc.Fchown(fd, uint.MaxValue, gid)) is int errno and not 0)
        {
            throw errno == Errno.EPERM
                ? new ZoneException(ZoneError.NotPermitted, $"{path}: cannot give the zone to group {gid}: only root, or an owner who is a member of that group, may")
                : Sys.Failure(errno, "fchown", path);
        }

        if (Sys.ErrnoOf(Libc.Fchmod(fd, group is null ? 0x180u /* 0600 */ : 0x1b0u /* 0660 */)) is int chmodErrno and not 0)
        {
            throw chmodErrno == Errno.EPERM
                ? new ZoneException(ZoneError.NotPermitted, $"{path}: cannot set the zone's mode: it belongs to another user (only its owner or root may format over it)")
                : Sys.Failure(chmodErrno, "fchmod", path);
        }
    }
}
