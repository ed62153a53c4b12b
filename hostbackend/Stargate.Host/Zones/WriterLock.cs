using System.Text;
using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// The one-writer rule: a writer (and format, and fsck) holds the zone file's exclusive
/// flock; one that cannot get it names the holder from the superblock the holder wrote.
/// </summary>
internal static class WriterLock
{
    private const int LockRetries = 20;
    private const int LockRetryMs = 25;

    public static void Take(SafeFileHandle file, string path)
    {
        int fd = (int)file.DangerousGetHandle();
        int errno = Sys.Expect(Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB), "flock", path, Errno.EWOULDBLOCK);

        // A writer that has just closed may still hold the lock for an instant: through a child
        // forked before its close and not yet exec'd (O_CLOEXEC acts only at exec), or while
        // its process exits. Wait that out briefly before calling the zone busy.
        for (int retry = 0; errno == Errno.EWOULDBLOCK && retry < LockRetries; retry++)
        {
            Thread.Sleep(LockRetryMs);
            errno = Sys.Expect(Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB), "flock", path, Errno.EWOULDBLOCK);
        }

        if (errno == Errno.EWOULDBLOCK)
        {
            throw new ZoneException(ZoneError.Busy, $"{path} is open for writing by {DescribeWriter(file)}; stop it or use a read-only command");
        }
    }

    /// <summary>"pid 123 (stargate serve) since 2026-11-21 07:00:00Z", read from the superblock the holder wrote.</summary>
    private static string DescribeWriter(SafeFileHandle file)
    {
        Span<byte> raw = stackalloc byte[SgzAbi.SuperblockSize];
        if (RandomAccess.Read(file, raw, 0) < raw.Length)
        {
            return "another process";
        }

        var sb = MemoryMarshal.Read<SgzSuperblock>(raw);
        if (sb.Magic != SgzAbi.Magic || sb.WriterPid == 0)
        {
            return "another process";
        }

        unsafe
        {
            var name = new ReadOnlySpan<byte>(sb.WriterCmd, 32);
            int end = name.IndexOf((byte)0);
            string cmd = Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
            var since = DateTimeOffset.FromUnixTimeMilliseconds((long)(sb.WriterSinceNs / 1_000_000));
            return $"pid {sb.WriterPid} ({cmd}) since {since:yyyy-MM-dd HH:mm:ss}Z";
        }
    }
}
