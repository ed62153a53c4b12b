using Stargate.Host.Zones;

namespace Stargate.Host.Mount;

/// <summary>
/// The mounts `stargate serve` holds (its --mount, and each `stargate mount` a client forwarded
/// to it): each served on a thread of its own until it is unmounted (fusermount3 -u) or serve
/// stops, which unmounts them all.
/// </summary>
internal static class BackgroundMounts
{
    private static readonly List<ZoneMount> Running = [];
    private static MountLocks? _locks;

    /// <summary>serve's request server takes the mounts' locks from now on (it wakes the guests waiting for them).</summary>
    public static void UseService(Zone zone, Rpc.RequestServer requests) => _locks = MountLocks.Through(zone, requests);

    public static void Start(Zone zone, string mountpoint, MountOptions options, Action<string> log)
    {
        var mount = ZoneMount.Mount(zone, mountpoint, options, _locks ?? MountLocks.Direct(zone), log);
        lock (Running)
        {
            Running.Add(mount);
        }

        var thread = new Thread(() =>
        {
            try
            {
                mount.Run();
            }
            finally
            {
                lock (Running)
                {
                    Running.Remove(mount);
                }

                mount.Dispose();
                log($"unmounted {mount.Mountpoint}");
            }
        })
        { IsBackground = true, Name = $"mount {mount.Mountpoint}" };
        thread.Start();
    }

    /// <summary>Unmounts every mount; their threads end as the kernel lets go.</summary>
    public static void StopAll()
    {
        ZoneMount[] all;
        lock (Running)
        {
            all = [.. Running];
        }

        foreach (var mount in all)
        {
            mount.Stop();
        }
    }
}
