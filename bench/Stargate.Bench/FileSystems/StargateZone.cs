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
/// </summary>
public sealed class StargateZone(bool mapped, ulong zoneSize) : BenchFileSystem(mapped ? "stargate-mmap" : "stargate", mapped ? "Stargate (mmap)" : "Stargate")
{
    private TestZone? _zone;
    private StargateServer? _server;

    public override string Setup =>
        $"zone of {zoneSize >> 20} MiB in /dev/shm, `stargate serve`, ivshmem-doorbell (2 vectors); stargatefs mounted in the guest"
        + (mapped ? "; data through MAP_SHARED mappings (mapped writes overwrite an allocated file; the transfer's reader maps)" : "; read(2)/write(2)");

    public override string DataFlags => mapped ? "--mmap" : string.Empty;

    public override bool Measures(Workload workload) =>
        !mapped || workload == Workload.SeqWrite || workload == Workload.SeqRead || workload == Workload.RandWrite
        || workload == Workload.RandRead || workload == Workload.MmapRead || workload == Workload.Transfer;

    public override void Start(string work)
    {
        _zone = TestZone.InShm(zoneSize);
        _server = StargateServer.Start(_zone.Path, vectors: 2, test: Id, testFile: "bench");
    }

    public override IReadOnlyList<string> Devices(int guest) =>
        QemuDevices.IvshmemDoorbell(_zone!.Path, Server.SocketPath, Server.Vectors, string.Create(CultureInfo.InvariantCulture, $"zone{guest}"));

    public override string MountCommand(int guest) =>
        $"insmod {Initramfs.ModuleDirectory}/{ModuleKernel.ModuleName} && sgfstest mount 0 {Mount}";

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
