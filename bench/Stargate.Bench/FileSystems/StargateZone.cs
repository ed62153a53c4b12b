using System.Globalization;
using Stargate.Guests.Boot;
using Stargate.Guests.Kernels;
using Stargate.Guests.Qemu;
using Stargate.Guests.Zones;

namespace Stargate.Bench.FileSystems;

/// <summary>
/// Stargate: a zone in /dev/shm served by `stargate serve`, each guest on ivshmem-doorbell with
/// stargatefs mounted. With @mapped, the data workloads go through shared mappings
/// (sgbench --mmap), and the namespace and latency workloads, the same as without, are left out.
/// Without @polling, neither the service nor the module polls for requests and replies
/// (`serve --poll-us 0`, `poll_us=0`: every request waits for two interrupts, as before
/// docs/requests.md "Polling"), and only the metadata workloads run: the request path before
/// and after, side by side in one run.
/// </summary>
public sealed class StargateZone(bool mapped, ulong zoneSize, bool polling = true)
    : BenchFileSystem(mapped ? "stargate-mmap" : polling ? "stargate" : "stargate-nopoll", mapped ? "Stargate (mmap)" : polling ? "Stargate" : "Stargate (no polling)")
{

    private TestZone? _zone;
    private StargateServer? _server;

    public override string Setup =>
        $"zone of {zoneSize >> 20} MiB in /dev/shm, `stargate serve`, ivshmem-doorbell (2 vectors); stargatefs mounted in the guest"
        + (mapped ? "; data through MAP_SHARED mappings (mapped writes overwrite an allocated file; the transfer's reader maps)" : "; read(2)/write(2)")
        + "; the service warmed up by 3000 untimed creates, mode changes and unlinks before the first run"
        + (polling ? string.Empty : "; no polling for requests or replies (serve --poll-us 0, module poll_us=0): the request path as it was before polling; metadata workloads only");

    public override string DataFlags => mapped ? "--mmap" : string.Empty;

    /// <summary>3000 untimed creates and unlinks (and as many SETATTRs): the service's request path optimized by the JIT before the first run.</summary>
    public override string? WarmUpCommand => $"sgbench create {Mount} 3000 && sgbench rtt {Mount} 3000 && sgbench unlink {Mount} 3000";

    public override bool Measures(Workload workload) =>
        !polling ? workload == Workload.Create || workload == Workload.Stat || workload == Workload.Readdir || workload == Workload.Unlink || workload == Workload.Rtt
        : !mapped || workload == Workload.SeqWrite || workload == Workload.SeqRead || workload == Workload.RandWrite
        || workload == Workload.RandRead || workload == Workload.MmapRead || workload == Workload.Transfer;

    public override void Start(string work)
    {
        _zone = TestZone.InShm(zoneSize);
        _server = StargateServer.Start(_zone.Path, vectors: 2, verbose: false, options: polling ? [] : ["--poll-us", "0"], test: Id, testFile: "bench");
    }

    public override IReadOnlyList<string> Devices(int guest) =>
        QemuDevices.IvshmemDoorbell(_zone!.Path, Server.SocketPath, Server.Vectors, string.Create(CultureInfo.InvariantCulture, $"zone{guest}"));

    public override string MountCommand(int guest) =>
        $"insmod {Initramfs.ModuleDirectory}/{ModuleKernel.ModuleName}{(polling ? string.Empty : " poll_us=0")} && sgfstest mount 0 {Mount}";

    /// <summary>
    /// The request counters of guest @guest now: its module's (the area device's
    /// stargatefs_requests, docs/requests.md "Polling") and the service's for it (peers --json).
    /// </summary>
    public override RequestCounters? ReadCounters(BenchGuest guest)
    {
        var module = ModuleCounters.Busiest(guest.Shell($"cat {ModuleCounters.Files}")) ?? throw new BenchException($"no stargatefs_requests counters in guest {guest.Name}");
        var host = Server.Peers().Where(p => p.Kind == "guest").Select(p => p.Cost).OfType<StargateServer.RequestCost>()
            .MaxBy(c => c.Requests) ?? new StargateServer.RequestCost(0, 0, 0, 0);
        return new RequestCounters(module, host);
    }

    public override void Finish()
    {
        int exit = Server.Stop();
        if (exit != 0)
        {
            throw new BenchException($"stargate serve exited with {exit}:\n{Server.Stderr}");
        }

        var fsck = StargateCli.Run("zone", "fsck", _zone!.Path);
        if (fsck.ExitCode != 0)
        {
            throw new BenchException($"the zone is not clean after the run: {fsck}");
        }
    }

    protected override void Dispose(bool disposing)
    {
        _server?.Dispose();
        _zone?.Dispose();
        base.Dispose(disposing);
    }

    private StargateServer Server => _server ?? throw new InvalidOperationException("the service is not started");
}
