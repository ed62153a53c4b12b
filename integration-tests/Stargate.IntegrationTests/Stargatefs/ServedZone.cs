using System.Text;
using System.Runtime.CompilerServices;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// A zone served by `stargate serve` (ivshmem-doorbell) to guests on one kernel of the matrix,
/// each with stargatefs mounted on /mnt: the set-up of every test where guests change the
/// namespace through requests to the host. With plain guests (ivshmem-plain: QEMU maps the zone
/// file itself, no doorbells) the service still runs, and each guest claims a slot in the zone. <see cref="Finish"/> ends every guest as
/// <see cref="StargatefsGuest.Finish"/> does, stops the service and requires a clean fsck.
/// </summary>
public sealed class ServedZone : IDisposable
{
    private readonly List<StargatefsGuest> _guests = [];
    private readonly List<StargateServer> _servers = [];
    private readonly ITestOutputHelper _output;
    private readonly string _test;
    private readonly string _testFile;

    private ServedZone(ModuleKernel kernel, ITestOutputHelper output, bool plain, bool readOnlySocket, string test, string testFile)
    {
        Kernel = kernel;
        Plain = plain;
        ReadOnlySocket = readOnlySocket;
        _output = output;
        _test = test;
        _testFile = testFile;
        Zone = TestZone.InShm();
    }

    public ModuleKernel Kernel { get; }

    /// <summary>Guests get ivshmem-plain (no doorbells, no id from the service) instead of ivshmem-doorbell.</summary>
    public bool Plain { get; }

    /// <summary>The service also listens on a read-only socket (`--socket PATH,ro`), which <see cref="AddGuest"/> can attach a guest to.</summary>
    public bool ReadOnlySocket { get; }

    public TestZone Zone { get; }

    /// <summary>The service now running (the last one started).</summary>
    public StargateServer Server => _servers[^1];

    public IReadOnlyList<StargatefsGuest> Guests => _guests;

    /// <summary>
    /// Makes the zone (@prepare may put files in it first, before any service holds it), serves it, and boots @guests guests
    /// (with ivshmem-plain when @plain).
    /// </summary>
    public static ServedZone Start(ModuleKernel kernel, int guests, ITestOutputHelper output, Action<TestZone>? prepare = null,
        bool mount = true, bool plain = false, bool readOnlySocket = false, [CallerMemberName] string test = "", [CallerFilePath] string testFile = "")
    {
        var served = new ServedZone(kernel, output, plain, readOnlySocket, test, testFile);
        try
        {
            prepare?.Invoke(served.Zone);
            served.StartServer();
            for (int i = 0; i < guests; i++)
            {
                served.AddGuest(mount);
            }

            return served;
        }
        catch
        {
            served.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Boots one more guest on the current service (mounted on /mnt unless @mount is false, and then without the module),
    /// through the read-only socket when @readOnly (its data device read-only too, and mounted read-only: the module
    /// refuses a read-write mount of a read-only export).
    /// </summary>
    public StargatefsGuest AddGuest(bool mount = true, bool readOnly = false)
    {
        string socket = readOnly ? Server.ReadOnlySocketPath ?? throw new InvalidOperationException("the service has no read-only socket: Start with readOnlySocket") : Server.SocketPath;
        var devices = Plain ? QemuDevices.IvshmemPlain(Zone.Path) : QemuDevices.IvshmemDoorbell(Zone.Path, socket, Server.Vectors, readOnly: readOnly);
        var guest = StargatefsGuest.Start(Kernel, devices, _output, load: mount, _test, _testFile);
        _guests.Add(guest);
        if (mount)
        {
            guest.MountZone(readOnly: readOnly);
        }

        return guest;
    }

    /// <summary>Starts a service on the zone (the first, or the next after <see cref="KillServer"/>).</summary>
    public StargateServer StartServer()
    {
        var server = StargateServer.Start(Zone.Path, vectors: 2, readOnlySocket: ReadOnlySocket, test: _test, testFile: _testFile);
        _servers.Add(server);
        return server;
    }

    /// <summary>SIGKILLs the running service, as a crash would: its guests keep running.</summary>
    public void KillServer() => Server.Kill();

    /// <summary>`stargate` on the zone from the host, with the service running: the command must succeed.</summary>
    public string Host(params string[] args)
    {
        var result = StargateCli.Run([args[0], Zone.Path, .. args[1..]]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{result}\nservice stderr:\n{Server.Stderr}");
        }

        return result.Stdout;
    }

    /// <summary>The host reads @path from the zone (the service running) as exactly @expected.</summary>
    public void AssertHostReads(string path, string expected)
    {
        byte[] got = ZoneFiles.Get(Zone, path);
        if (!got.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(expected)))
        {
            throw new InvalidOperationException($"the host reads {path} as '{Encoding.UTF8.GetString(got)}', expected '{expected}'");
        }
    }

    /// <summary>The names `stargate ls` lists in @dir, as the host sees them with the service running.</summary>
    public IReadOnlyList<string> HostList(string dir) =>
        [.. Host("ls", dir).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>Ends every guest (no kernel trouble), stops the service (exit 0), and checks the zone with fsck.</summary>
    public void Finish()
    {
        foreach (var guest in _guests.Where(g => !g.Qemu.HasExited))
        {
            guest.Finish();
        }

        int exit = Server.Stop();
        if (exit != 0)
        {
            throw new InvalidOperationException($"stargate serve exited with {exit}:\n{Server.Stderr}");
        }

        foreach (var server in _servers)
        {
            if (server.Stderr.Contains("Unhandled exception", StringComparison.Ordinal) || server.Stderr.Contains("   at Stargate.", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"stargate serve logged an exception:\n{server.Stderr}");
            }
        }

        var fsck = StargateCli.Run("zone", "fsck", Zone.Path);
        if (fsck.ExitCode != 0)
        {
            throw new InvalidOperationException($"fsck after the test: {fsck}");
        }
    }

    public void Dispose()
    {
        foreach (var guest in _guests)
        {
            guest.Dispose();
        }

        foreach (var server in _servers)
        {
            server.Dispose();
        }

        Zone.Dispose();
    }
}
