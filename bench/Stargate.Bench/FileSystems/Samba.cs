using System.Globalization;
using Stargate.Bench.Services;

namespace Stargate.Bench.FileSystems;

/// <summary>
/// Samba: smbd on 127.0.0.1 at a free port with a guest share of a /dev/shm folder (every
/// state folder of its own, nothing of the machine's Samba touched); the guests' kernel cifs
/// client reaches it as 10.0.2.2 through QEMU user-mode networking, SMB 3.1.1.
/// </summary>
public sealed class Samba() : BenchFileSystem("samba", "Samba (cifs)")
{
    private const string Options = "guest,vers=3.1.1";
    private ServiceProcess? _server;
    private int _port;

    public override string Setup => $"smbd on 127.0.0.1:{_port}, a guest share of a /dev/shm folder; guest via QEMU user-mode net; mount -t cifs -o {Options} (cache=strict, the default)";

    public override void Start(string work)
    {
        if (Environment.UserName != "root")
        {
            throw new BenchException("smbd needs root to serve its share as root: run the benchmark as root");
        }

        string export = ExportFolder(work);
        string state = ExportFolder(work, "samba");
        foreach (string folder in new[] { "lock", "state", "cache", "private", "pid", "ncalrpc" })
        {
            Directory.CreateDirectory(Path.Combine(state, folder));
        }

        _port = ServiceProcess.FreeLoopbackPort();
        string config = Path.Combine(work, "smb.conf");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            [global]
              server role = standalone server
              interfaces = 127.0.0.1
              bind interfaces only = yes
              smb ports = {_port}
              disable netbios = yes
              lock directory = {state}/lock
              state directory = {state}/state
              cache directory = {state}/cache
              private dir = {state}/private
              pid directory = {state}/pid
              ncalrpc dir = {state}/ncalrpc
              log file = {state}/log.%m
              load printers = no
              printcap name = /dev/null
              disable spoolss = yes
              map to guest = Bad User
              guest account = root
              server min protocol = SMB3
            [bench]
              path = {export}
              read only = no
              guest ok = yes
              force user = root
            """));
        _server = ServiceProcess.Start("smbd", "smbd", ["--foreground", "--no-process-group", "--debug-stdout", "-s", config], "samba");
        int port = _port;
        _server.WaitUntil(() => ServiceProcess.Listening(port), $"listening on 127.0.0.1:{port}", TimeSpan.FromSeconds(60));
    }

    public override IReadOnlyList<string> Devices(int guest) => [];

    public override string MountCommand(int guest) => string.Create(CultureInfo.InvariantCulture,
        $"mount -t cifs -o {Options},port={_port} //10.0.2.2/bench {Mount}");

    protected override void Dispose(bool disposing)
    {
        _server?.Dispose();
        base.Dispose(disposing);
    }
}
