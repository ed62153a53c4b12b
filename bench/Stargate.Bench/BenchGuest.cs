using System.Globalization;
using Stargate.Guests.Qemu;

namespace Stargate.Bench;

/// <summary>
/// One benchmark guest: the integration tests' QEMU guest (busybox initramfs, serial console
/// commands), booted the same for every file system: the same kernel, RAM on a shared memfd
/// backend, one vCPU, a virtio-net NIC on QEMU user-mode networking, the same kernel modules
/// loaded (virtio_net, 9p, nfsv4, cifs and what they need) and stargatefs.ko in the initramfs.
/// Only the file system's own device differs.
/// </summary>
public sealed class BenchGuest : IDisposable
{
    /// <summary>The modules of the guest kernel's own tree every guest loads at boot.</summary>
    public static readonly IReadOnlyList<string> Modules = ["virtio_net", "9pnet_virtio", "9p", "nfsv4", "cifs", "cmac", "ghash-generic", "ccm", "gcm"];

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);
    private readonly QemuGuest _qemu;
    private int _background;

    private BenchGuest(QemuGuest qemu, string name)
    {
        _qemu = qemu;
        Name = name;
    }

    public string Name { get; }

    public string LogPath => _qemu.LogPath;

    /// <summary>Boots guest @index for @fileSystem and mounts it on <see cref="FileSystems.BenchFileSystem.Mount"/>.</summary>
    public static BenchGuest Boot(BenchSettings settings, FileSystems.BenchFileSystem fileSystem, int index)
    {
        string memory = settings.GuestMemory;
        List<string> devices =
        [
            "-object", $"memory-backend-memfd,id=ram,size={memory},share=on", "-numa", "node,memdev=ram",
            "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0,romfile=",
            .. fileSystem.Devices(index),
        ];
        var qemu = QemuGuest.Start(new GuestOptions
        {
            KernelRelease = settings.KernelRelease,
            Module = settings.StargatefsModule,
            KernelModules = Modules,
            Devices = devices,
            Memory = memory,
            Timeout = Timeout,
        }, log: null, test: fileSystem.Id, testFile: "bench");
        var guest = new BenchGuest(qemu, $"{fileSystem.Id} guest {(index == 0 ? 'A' : 'B')}");
        try
        {
            guest.Shell("true");
            var failures = qemu.ConsoleLines("STARGATE: fail=init");
            if (failures.Count > 0)
            {
                throw new BenchException($"{guest.Name}: {failures[0]} (console log {qemu.LogPath})");
            }

            guest.Shell(string.Create(CultureInfo.InvariantCulture,
                $"hostname bench{index} && ip link set lo up && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up"));
            guest.Shell($"mkdir -p {FileSystems.BenchFileSystem.Mount} && {fileSystem.MountCommand(index)}");
            return guest;
        }
        catch
        {
            guest.Dispose();
            throw;
        }
    }

    /// <summary>Runs @command in the guest's shell; a non-zero exit is a <see cref="BenchException"/> with its output.</summary>
    public IReadOnlyList<string> Shell(string command)
    {
        GuestReply reply;
        try
        {
            reply = _qemu.TryExec(command, Timeout);
        }
        catch (Exception e) when (e is GuestException or System.Net.Sockets.SocketException or IOException or TimeoutException)
        {
            throw new BenchException($"{Name}: {e.Message}", e);
        }

        if (reply.ExitCode != 0)
        {
            throw new BenchException($"{Name}: '{command}' exited with {reply.ExitCode}: {string.Join(" | ", reply.Lines.TakeLast(5))} (console log {_qemu.LogPath})");
        }

        return reply.Lines;
    }

    /// <summary>Runs sgbench with @arguments; returns the key=value words of its result line.</summary>
    public SgbenchResult Sgbench(string arguments) => SgbenchResult.Parse(Shell("sgbench " + arguments), Name);

    /// <summary>Starts @command in the background and waits until its output contains @ready; returns a name for <see cref="Join"/>.</summary>
    public string Background(string command, string ready)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"bg{++_background}");
        Shell($"{command} >/tmp/{name}.out 2>&1 & echo $! >/tmp/{name}.pid");
        Shell($"i=0; until grep -q '{ready}' /tmp/{name}.out || ! kill -0 $(cat /tmp/{name}.pid) 2>/dev/null || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done; grep -q '{ready}' /tmp/{name}.out || {{ cat /tmp/{name}.out; false; }}");
        return name;
    }

    /// <summary>Waits for a <see cref="Background"/> command to end; its output (a non-zero exit is an error).</summary>
    public IReadOnlyList<string> Join(string name) =>
        Shell($"wait $(cat /tmp/{name}.pid); rc=$?; cat /tmp/{name}.out; [ $rc = 0 ]");

    /// <summary>Unmounts, checks the kernel log for warnings and oopses, and powers off.</summary>
    public void Finish()
    {
        Shell($"umount {FileSystems.BenchFileSystem.Mount}");
        var trouble = _qemu.TryExec("dmesg | grep -F -e 'WARNING:' -e 'BUG:' -e 'Oops' -e 'Call Trace'").Lines;
        if (trouble.Count > 0)
        {
            throw new BenchException($"{Name}: the kernel log has trouble: {string.Join(" | ", trouble.Take(5))}");
        }

        int exit = _qemu.Shutdown(Timeout);
        if (exit != 0)
        {
            throw new BenchException($"{Name}: QEMU exited with {exit} at power-off");
        }
    }

    public void Dispose() => _qemu.Dispose();
}
