using Stargate.Testing;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>The served zone mounted on the host by `stargate mount` (which the running service takes over), on a fresh directory.</summary>
internal sealed class HostMount : IDisposable
{
    private HostMount(string path) => Path = path;

    /// <summary>Why the host mount cannot be tested here, or null.</summary>
    public static string? Missing => FuseMounts.Missing;

    public string Path { get; }

    public static HostMount Through(ServedZone served)
    {
        string dir = FuseMounts.NewMountPoint();
        try
        {
            served.Host("mount", dir);
            FuseMounts.WaitFor(dir, mounted: true);
            return new HostMount(dir);
        }
        catch
        {
            FuseMounts.Remove(dir);
            throw;
        }
    }

    /// <summary>fusermount3 -u, which must succeed.</summary>
    public void Unmount() => FuseMounts.Unmount(Path);

    /// <summary>Clears a mount a failed test left, and the directory.</summary>
    public void Dispose() => FuseMounts.Remove(Path);
}
