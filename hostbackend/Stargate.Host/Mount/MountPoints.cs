using Stargate.Interop.Native;

namespace Stargate.Host.Mount;

/// <summary>What a directory must be to take a zone's mount: present, a directory, empty and not mounted on.</summary>
internal static class MountPoints
{
    private const int ENOTCONN = 107;

    /// <summary>Throws a one-line <see cref="IOException"/> naming the problem and its fix.</summary>
    public static void Check(string path)
    {
        if (Libc.Stat(path, out var status) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException(errno switch
            {
                Errno.ENOENT => $"mount point {path} does not exist: create it (mkdir -p {path})",
                ENOTCONN => $"{path} is still mounted by a mount process that died: clear it with 'fusermount3 -u {path}', then mount again",
                _ => $"mount point {path}: {Marshal.GetPInvokeErrorMessage(errno)}",
            });
        }

        if (status.Type != Libc.S_IFDIR)
        {
            throw new IOException($"mount point {path} is not a directory");
        }

        if (IsMounted(path))
        {
            throw new IOException($"{path} is already a mount point: unmount it first (fusermount3 -u {path})");
        }

        if (Directory.EnumerateFileSystemEntries(path).Any())
        {
            throw new IOException($"mount point {path} is not empty: mount on an empty directory");
        }
    }

    /// <summary>Whether <paramref name="path"/> (absolute, normalized) is the mount point of a mount in this namespace (/proc/self/mountinfo, field 5, octal escapes).</summary>
    public static bool IsMounted(string path)
    {
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length > 4 && Unescape(fields[4]) == path)
            {
                return true;
            }
        }

        return false;
    }

    private static string Unescape(string field) =>
        System.Text.RegularExpressions.Regex.Replace(field, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());
}
