namespace Stargate.Interop.Native;

/// <summary>
/// stat, lstat, fstat, chmod, fchmod and fchown: who owns a path and what it is (.NET gives neither the
/// owner nor lstat's file type), and the modes the host sets on the files it creates.
/// </summary>
public static partial class Libc
{
    public const uint S_IFMT = 0xf000;
    public const uint S_IFSOCK = 0xc000;
    public const uint S_IFLNK = 0xa000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFDIR = 0x4000;

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Stat(string path, out StatBuf status);

    /// <summary>Like stat, but a symlink is described itself, not followed (glibc 2.33+ exports it).</summary>
    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lstat(string path, out StatBuf status);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    public static partial int Fstat(int fd, out StatBuf status);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chmod(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, uint mode);

    /// <summary>Changes a file's owner and group; uint.MaxValue (-1) leaves one as it is.</summary>
    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(int fd, uint uid, uint gid);
}

/// <summary>struct stat on x86-64 (144 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 144)]
public struct StatBuf
{
    [FieldOffset(8)]
    public ulong Ino;

    [FieldOffset(16)]
    public ulong Nlink;

    [FieldOffset(24)]
    public uint Mode;

    [FieldOffset(28)]
    public uint Uid;

    [FieldOffset(32)]
    public uint Gid;

    [FieldOffset(40)]
    public ulong Rdev;

    [FieldOffset(48)]
    public long Size;

    [FieldOffset(56)]
    public long BlockSize;

    /// <summary>512-byte units allocated.</summary>
    [FieldOffset(64)]
    public long Blocks;

    [FieldOffset(72)]
    public Timespec Atime;

    [FieldOffset(88)]
    public Timespec Mtime;

    [FieldOffset(104)]
    public Timespec Ctime;

    public readonly uint Type => Mode & Libc.S_IFMT;

    /// <summary>The permission bits (rwx for owner, group and others, and setuid, setgid, sticky).</summary>
    public readonly uint Permissions => Mode & 0xfff;
}

/// <summary>struct timespec on x86-64.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Timespec
{
    public long Seconds;
    public long Nanoseconds;

    public static Timespec FromNanoseconds(ulong ns) => new() { Seconds = (long)(ns / 1_000_000_000), Nanoseconds = (long)(ns % 1_000_000_000) };

    public readonly ulong ToNanoseconds() => (ulong)Seconds * 1_000_000_000 + (ulong)Nanoseconds;
}
