using System.Globalization;
using Stargate.Bench.Services;

namespace Stargate.Bench.FileSystems;

/// <summary>
/// NFS 4.1 from nfs-ganesha (VFS backend) exporting a /dev/shm folder on 127.0.0.1 at a free
/// port; each guest reaches it as 10.0.2.2 through QEMU user-mode networking. Each guest gets
/// its own NFSv4 client id (nfs4_unique_id), since both have the same address and host name.
/// </summary>
public sealed class Nfs() : BenchFileSystem("nfs", "NFS (ganesha)")
{
    private const string Options = "vers=4.1";
    private ServiceProcess? _server;
    private int _port;

    public override string Setup => $"nfs-ganesha 4 (FSAL VFS) exporting a /dev/shm folder on 127.0.0.1:{_port}; guest via QEMU user-mode net; mount -t nfs4 -o {Options} (hard, tcp, default caching)";

    public override void Start(string work)
    {
        if (Environment.UserName != "root")
        {
            throw new BenchException("nfs-ganesha's VFS backend needs root (open_by_handle_at): run the benchmark as root");
        }

        string export = ExportFolder(work);
        _port = ServiceProcess.FreeLoopbackPort();
        string config = Path.Combine(work, "ganesha.conf");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $$"""
            NFS_CORE_PARAM {
                Protocols = 4;
                Bind_addr = 127.0.0.1;
                NFS_Port = {{_port}};
                Enable_NLM = false;
                Enable_RQUOTA = false;
            }
            NFSV4 {
                Graceless = true;
                RecoveryBackend = fs;
                RecoveryRoot = {{Path.Combine(work, "recovery")}};
                Only_Numeric_Owners = true;
            }
            NFS_KRB5 { Active_krb5 = false; }
            EXPORT {
                Export_Id = 1;
                Path = {{export}};
                Pseudo = /bench;
                Access_Type = RW;
                Squash = No_Root_Squash;
                SecType = sys;
                Protocols = 4;
                Transports = TCP;
                FSAL { Name = VFS; }
            }
            """));
        _server = ServiceProcess.Start("ganesha", "ganesha.nfsd",
            ["-F", "-f", config, "-L", "STDERR", "-p", Path.Combine(work, "ganesha.pid"), "-N", "NIV_EVENT"], "nfs-ganesha nfs-ganesha-vfs");
        int port = _port;
        _server.WaitUntil(() => ServiceProcess.Listening(port), $"listening on 127.0.0.1:{port}", TimeSpan.FromSeconds(60));
    }

    public override IReadOnlyList<string> Devices(int guest) => [];

    public override string MountCommand(int guest) => string.Create(CultureInfo.InvariantCulture,
        $"echo stargate-bench-{guest} >/sys/module/nfs/parameters/nfs4_unique_id && mount -t nfs4 -o {Options},port={_port} 10.0.2.2:/bench {Mount}");

    protected override void Dispose(bool disposing)
    {
        _server?.Dispose();
        base.Dispose(disposing);
    }
}
