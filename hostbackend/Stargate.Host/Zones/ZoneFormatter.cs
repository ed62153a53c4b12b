using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// Formatting. Only the superblock, the journal header, two bitmap bits and
/// the root inode are written: a new zone file is sparse and reads as zeros,
/// which is what every other region means when empty, so a 64 GiB zone
/// formats in milliseconds and costs no memory until it is filled.
/// </summary>
internal static class ZoneFormatter
{
    /// <summary>
    /// Creates and formats a zone file of <paramref name="size"/> bytes (a power of two): never
    /// one a live writer has open. The file ends up mode 0600, or 0660 owned by
    /// <paramref name="group"/>, whatever the umask, and over an existing file (force) too:
    /// a zone is never readable by every local user.
    /// </summary>
    public static ZoneGeometry Format(string path, ulong size, bool force = false, uint? group = null)
    {
        var geometry = ZoneGeometry.ForSize(size);
        using (var file = ZoneFile.Open(path, force ? ZoneFile.Mode.CreateOrOpen : ZoneFile.Mode.CreateNew))
        {
            // Never format a zone that a live writer has open (the lock goes with the file).
            WriterLock.Take(file, path);
            Protect(file, path, group);
            try
            {
                // A fresh length over an empty file: every byte reads as zero and none is allocated.
                RandomAccess.SetLength(file, 0);
                RandomAccess.SetLength(file, (long)size);
            }
            catch (IOException e)
            {
                throw new ZoneException(ZoneError.NoSpace, $"{path}: cannot size the file to {Units.Bytes(size)}: {e.Message}");
            }

            using var memory = new ZoneMemory(file, size, writable: true, path);
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
            sb.FreePages = geometry.DataPages;
            sb.FreeInodes = geometry.InodeCount - 2;
            sb.InodeHint = SgzAbi.RootIno + 1;
            sb.Flags = SgzAbi.SbClean;
            // Magic and crc last: a format cut short is "not a zone", never half of one.
            sb.Magic = SgzAbi.Magic;
            sb.Crc = SuperblockSeal.Crc(sb);
            memory.Flush(path);
        }

        return geometry;
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
