using Stargate.Guests.Qemu;

namespace Stargate.Bench.FileSystems;

/// <summary>virtio-9p (VirtFS): QEMU's own 9p server over a /dev/shm folder, one device per guest on the same folder.</summary>
public sealed class NineP() : BenchFileSystem("9p", "virtio-9p")
{
    private const string Options = "trans=virtio,version=9p2000.L,msize=512000";
    private string? _export;

    public override string Setup => $"QEMU -virtfs local,security_model=none over a /dev/shm folder; guest mount -t 9p -o {Options} (cache=none, the default)";

    public override void Start(string work) => _export = ExportFolder(work);

    public override IReadOnlyList<string> Devices(int guest) =>
        ["-virtfs", $"local,path={QemuDevices.Value(_export!)},mount_tag=bench,security_model=none,id=bench9p"];

    public override string MountCommand(int guest) => $"mount -t 9p -o {Options} bench {Mount}";
}
