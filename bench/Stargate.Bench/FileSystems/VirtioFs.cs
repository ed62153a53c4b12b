using System.Globalization;
using Stargate.Bench.Services;
using Stargate.Guests.Qemu;

namespace Stargate.Bench.FileSystems;

/// <summary>
/// virtio-fs: one virtiofsd per guest (a daemon serves one vhost-user connection) over the same
/// /dev/shm folder, vhost-user-fs-pci in the guest; its RAM is on a shared memfd backend, as
/// every bench guest's is.
/// </summary>
public sealed class VirtioFs() : BenchFileSystem("virtiofs", "virtio-fs")
{
    public const string Daemon = "/usr/lib/qemu/virtiofsd";
    private readonly List<ServiceProcess> _daemons = [];
    private string? _work;
    private string? _export;

    public override string Setup => $"{Daemon} -o cache=auto,sandbox=chroot per guest over one /dev/shm folder; vhost-user-fs-pci; guest mount -t virtiofs";

    public override void Start(string work)
    {
        _work = work;
        _export = ExportFolder(work);
    }

    public override IReadOnlyList<string> Devices(int guest)
    {
        string socket = Path.Combine(_work!, string.Create(CultureInfo.InvariantCulture, $"virtiofsd-{guest}.sock"));
        var daemon = ServiceProcess.Start($"virtiofsd-{guest}", Daemon,
            [$"--socket-path={socket}", "-o", $"source={_export}", "-o", "cache=auto", "-o", "sandbox=chroot"], "qemu-system-common");
        _daemons.Add(daemon);
        daemon.WaitUntil(() => File.Exists(socket), "listening on " + socket, TimeSpan.FromSeconds(30));
        string id = string.Create(CultureInfo.InvariantCulture, $"benchvfs{guest}");
        return ["-chardev", $"socket,id={id},path={QemuDevices.Value(socket)}", "-device", $"vhost-user-fs-pci,chardev={id},tag=bench"];
    }

    public override string MountCommand(int guest) => $"mount -t virtiofs bench {Mount}";

    protected override void Dispose(bool disposing)
    {
        foreach (var daemon in _daemons)
        {
            daemon.Dispose();
        }

        base.Dispose(disposing);
    }
}
