using Stargate.Interop.Native;

namespace Stargate.Testing;

/// <summary>What the tests of the host mount (`stargate mount`) need from the machine, and how they clear a mount.</summary>
public static class FuseMounts
{
    /// <summary>Why a FUSE mount cannot be made here, or null when it can.</summary>
    public static string? Missing =>
        Libc.Getuid() != 0 ? "needs root to mount through FUSE"
        : !File.Exists("/dev/fuse") ? "needs /dev/fuse (modprobe fuse)"
        : !Fuse3.IsAvailable() ? "needs libfuse3.so.3 (apt-get install libfuse3-3)"
        : ProcessRunner.Which("fusermount3") is null ? "needs fusermount3 (apt-get install fuse3)"
        : null;

    /// <summary>A new empty directory to mount on.</summary>
    public static string NewMountPoint() => Directory.CreateTempSubdirectory("stargate-mount-").FullName;

    /// <summary>Whether <paramref name="dir"/> is a mount point now (a FUSE mount whose process died still is).</summary>
    public static bool IsMounted(string dir) =>
        File.ReadLines("/proc/self/mountinfo").Any(line => line.Split(' ') is { Length: > 4 } f && f[4] == dir);

    /// <summary>Waits (up to 30 s) for <paramref name="dir"/> to be mounted or not.</summary>
    public static void WaitFor(string dir, bool mounted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (IsMounted(dir) != mounted)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{dir} did not {(mounted ? "get" : "lose")} its mount in 30 s");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>fusermount3 -u, which must succeed; the mount is gone after it.</summary>
    public static void Unmount(string dir)
    {
        ProcessRunner.RunChecked("fusermount3", ["-u", dir]);
        WaitFor(dir, mounted: false);
    }

    /// <summary>Clears whatever is left (a lazy unmount, quietly) and removes the directory: for Dispose.</summary>
    public static void Remove(string dir)
    {
        if (IsMounted(dir))
        {
            ProcessRunner.Run("fusermount3", ["-u", "-z", dir]);
        }

        try
        {
            Directory.Delete(dir, recursive: false);
        }
        catch (IOException)
        {
            // still busy or not empty: a temp directory left behind is harmless
        }
    }
}
