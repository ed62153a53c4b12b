namespace Stargate.Bench.FileSystems;

/// <summary>
/// One file system of the comparison: what the host must run for it (<see cref="Start"/>),
/// the QEMU device each guest gets, and the guest command that mounts it on <see cref="Mount"/>.
/// Every guest of every file system is otherwise booted the same (<see cref="BenchGuest"/>).
/// </summary>
public abstract class BenchFileSystem : IDisposable
{
    /// <summary>Where every file system is mounted in the guests.</summary>
    public const string Mount = "/mnt/bench";

    protected BenchFileSystem(string id, string label)
    {
        Id = id;
        Label = label;
    }

    /// <summary>tmpfs, stargate, stargate-mmap, stargate-nopoll, 9p, virtiofs, nfs, samba.</summary>
    public string Id { get; }

    public string Label { get; }

    /// <summary>How it is set up, one line for the results (server, device, mount options).</summary>
    public abstract string Setup { get; }

    /// <summary>Two guests can share it: the transfer and latency workloads apply.</summary>
    public virtual bool Shareable => true;

    /// <summary>Extra sgbench options for data workloads (--mmap).</summary>
    public virtual string DataFlags => string.Empty;

    /// <summary>Whether @workload is measured on this file system.</summary>
    public virtual bool Measures(Workload workload) => Shareable || !workload.TwoGuests;

    /// <summary>Starts what the host runs for it, in @work (a fresh folder in /dev/shm, removed afterwards).</summary>
    public abstract void Start(string work);

    /// <summary>QEMU arguments of guest @guest (0 or 1): its device for this file system.</summary>
    public abstract IReadOnlyList<string> Devices(int guest);

    /// <summary>The guest shell command (one line) that mounts it on <see cref="Mount"/> in guest @guest.</summary>
    public abstract string MountCommand(int guest);

    /// <summary>
    /// Untimed work for guest A before the first run, or null: a file system whose host side is
    /// a just-started .NET service (Stargate) answers its first thousands of requests with code
    /// the JIT has not optimized yet, which a service that runs for days never shows.
    /// </summary>
    public virtual string? WarmUpCommand => null;

    /// <summary>What this file system counts of its requests in guest @guest now (Stargate's); null where it counts none.</summary>
    public virtual RequestCounters? ReadCounters(BenchGuest guest) => null;

    /// <summary>After the guests are gone: checks what the host can check (a clean fsck), throws what is wrong.</summary>
    public virtual void Finish()
    {
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>A folder @work/@name for a server to export, made empty.</summary>
    protected static string ExportFolder(string work, string name = "export")
    {
        string path = Path.Combine(work, name);
        Directory.CreateDirectory(path);
        return path;
    }
}
