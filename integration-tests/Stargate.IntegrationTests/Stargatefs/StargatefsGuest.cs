using System.Runtime.CompilerServices;
using Stargate.IntegrationTests.Guest;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// A QEMU guest booted on one kernel of the matrix with stargatefs.ko in its initramfs, and
/// the steps the module's tests take in it: insmod, mount, sgfstest, the kernel log. Every
/// kernel message goes to the console from boot on (dmesg -n 8), so the console log, kept in
/// artifacts/guest-logs/CLASS.TEST.RELEASE-N.log and put in every failure, holds the
/// module's lines; with panic_on_warn a WARN or oops ends QEMU and fails the test at once.
/// </summary>
public sealed class StargatefsGuest : IDisposable
{
    public const string Mount = "/mnt";
    private static readonly string[] KernelTrouble = ["WARNING:", "BUG:", "Oops", "Call Trace", "general protection fault"];
    private readonly HashSet<string> _mounted = [];
    private int _background;

    private StargatefsGuest(ModuleKernel kernel, QemuGuest guest)
    {
        Kernel = kernel;
        Qemu = guest;
    }

    public ModuleKernel Kernel { get; }

    public QemuGuest Qemu { get; }

    /// <summary>The module inside the guest.</summary>
    public static string ModulePath => $"{Initramfs.ModuleDirectory}/{ModuleKernel.ModuleName}";

    /// <summary>Boots a guest on @kernel with @devices, waits until it takes commands, and loads the module (unless @load is false).</summary>
    public static StargatefsGuest Start(ModuleKernel kernel, IReadOnlyList<string> devices, ITestOutputHelper output, bool load = true,
        [CallerMemberName] string test = "", [CallerFilePath] string testFile = "")
    {
        var qemu = QemuGuest.Start(new GuestOptions
        {
            KernelRelease = kernel.Release,
            Module = kernel.Module,
            Devices = devices,
        }, output.WriteLine, test, testFile);
        var guest = new StargatefsGuest(kernel, qemu);
        try
        {
            guest.Exec("dmesg -n 8");
            if (load)
            {
                guest.Insmod();
            }

            return guest;
        }
        catch
        {
            guest.Dispose();
            throw;
        }
    }

    public GuestReply Exec(string command) => Qemu.Exec(command);

    public GuestReply TryExec(string command) => Qemu.TryExec(command);

    /// <summary>Loads the module again, with @parameters ("crc=sse4.2") if any.</summary>
    public void Insmod(string parameters = "") => Exec($"insmod {ModulePath} {parameters}".TrimEnd());

    public void Rmmod() => Exec("rmmod stargatefs");

    /// <summary>Mounts @source (a device index in bind order, or a PCI address) on @dir.</summary>
    public void MountZone(string source = "0", string dir = Mount, bool readOnly = false)
    {
        Exec($"mkdir -p {dir} && sgfstest mount {source} {dir}{(readOnly ? " ro" : string.Empty)}");
        _mounted.Add(dir);
    }

    /// <summary>A mount that must fail: returns the errno name it failed with.</summary>
    public string MountFails(string source = "0", string dir = Mount) =>
        Fails($"mkdir -p {dir} && sgfstest mount {source} {dir}");

    public void Unmount(string dir = Mount)
    {
        Exec($"umount {dir}");
        _mounted.Remove(dir);
    }

    /// <summary>`sgfstest sum`: size and crc through read(2).</summary>
    public FileSum Sum(string path) => FileSum.Parse(Exec($"sgfstest sum {path}"));

    /// <summary>`sgfstest mmsum`: size and crc through a shared mapping.</summary>
    public FileSum MmSum(string path, bool populate = false) =>
        FileSum.Parse(Exec($"sgfstest mmsum {path}{(populate ? " populate" : string.Empty)}"));

    /// <summary>
    /// Runs an sgfstest (or other) command that must fail with exit 1 and an "error=ENAME" word
    /// (see sgfstest.c); returns ENAME.
    /// </summary>
    public string Fails(string command)
    {
        var reply = TryExec(command);
        if (reply.ExitCode != 1 || reply.Find("error") is not { } error)
        {
            throw Qemu.Failure($"expected '{command}' to fail with error=ENAME and exit 1; {reply}");
        }

        return error;
    }

    /// <summary>Fails the test unless @condition holds, with @what, the console log's path and its last lines.</summary>
    public void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw Qemu.Failure(what);
        }
    }

    /// <summary>@path reads as @expected both through read(2) and through a shared mapping.</summary>
    public void AssertReads(string path, FileSum expected, bool populate = false)
    {
        var read = Sum(path);
        var mapped = MmSum(path, populate);
        Check(read == expected && mapped == expected, $"{path}: the host put {expected}; read(2) gave {read}, mmap gave {mapped}");
    }

    /// <summary>The kernel log lines (dmesg) that contain @text.</summary>
    public IReadOnlyList<string> KernelLog(string text) =>
        TryExec($"dmesg | grep -F -e '{text}'").Lines;

    /// <summary>
    /// Starts @command in the background (its output in /tmp/NAME.out) and waits until it has
    /// printed @ready (sgfstest mmwait: "mapped=1"); <see cref="Join"/> waits for its end.
    /// </summary>
    public string Background(string command, string ready)
    {
        string name = $"bg{++_background}";
        Exec($"{command} >/tmp/{name}.out 2>&1 & echo $! >/tmp/{name}.pid");
        Exec($"until grep -q '{ready}' /tmp/{name}.out || ! kill -0 $(cat /tmp/{name}.pid) 2>/dev/null; do sleep 0.1; done; grep -q '{ready}' /tmp/{name}.out");
        return name;
    }

    /// <summary>Waits for a <see cref="Background"/> command; returns its output and exit status.</summary>
    public GuestReply Join(string name) =>
        TryExec($"wait $(cat /tmp/{name}.pid); rc=$?; cat /tmp/{name}.out; [ $rc = 0 ]");

    /// <summary>
    /// The end every test's guest must reach: its mounts unmounted, the module removed, no
    /// warning or oops in the kernel log, and a clean power-off.
    /// </summary>
    public void Finish()
    {
        foreach (string dir in _mounted.ToList())
        {
            Unmount(dir);
        }

        Exec("if grep -q '^stargatefs ' /proc/modules; then rmmod stargatefs; fi");
        var trouble = TryExec($"dmesg | grep -F {string.Join(' ', KernelTrouble.Select(t => $"-e '{t}'"))}").Lines;
        if (trouble.Count > 0)
        {
            throw Qemu.Failure($"the kernel log has trouble:\n{string.Join('\n', trouble)}");
        }

        int exit = Qemu.Shutdown();
        if (exit != 0)
        {
            throw Qemu.Failure($"QEMU exited with {exit} at power-off");
        }
    }

    public void Dispose() => Qemu.Dispose();
}
