using Stargate.Testing;
using Stargate.Guests.Boot;
using Stargate.Guests.Kernels;

namespace Stargate.Guests.Qemu;

/// <summary>
/// What booting a guest needs from this machine, checked once: QEMU, a default kernel,
/// static busybox, gcc and make. Anything missing is a reason that names the missing piece and
/// how to get it; a test checks <see cref="Find"/> first and skips with it, never passing silently.
/// </summary>
public sealed record GuestEnvironment(string Qemu, string Kernel, string Busybox, IReadOnlyList<string> Accelerator)
{
    public const string AccelVariable = "STARGATE_ACCEL";
    public const string KernelVariable = "STARGATE_GUEST_KERNEL";
    public const string QemuBinary = "qemu-system-x86_64";
    public const string BusyboxPath = "/bin/busybox";

    private static readonly Lazy<(GuestEnvironment? Environment, string Reason)> Probe = new(Detect);

    /// <summary>The environment, or null with the reason it is incomplete.</summary>
    public static GuestEnvironment? Find(out string reason)
    {
        (var environment, reason) = Probe.Value;
        return environment;
    }

    /// <summary>The environment, or a <see cref="GuestException"/> naming what is missing.</summary>
    public static GuestEnvironment Require() =>
        Find(out string reason) ?? throw new GuestException($"cannot boot a guest here: {reason}");

    private static (GuestEnvironment?, string) Detect()
    {
        string? qemu = ProcessRunner.Which(QemuBinary);
        if (qemu is null)
        {
            return (null, $"{QemuBinary} is not installed (apt-get install qemu-system-x86)");
        }

        string? kernel = DefaultKernel(out string reason);
        if (kernel is null)
        {
            return (null, reason);
        }

        if (!File.Exists(BusyboxPath))
        {
            return (null, $"{BusyboxPath} is missing (apt-get install busybox-static)");
        }

        if (!StaticElf.IsStatic(BusyboxPath))
        {
            return (null, $"{BusyboxPath} is dynamically linked and cannot run in the guest's initramfs (apt-get install busybox-static)");
        }

        foreach (string tool in new[] { "gcc", "make" })
        {
            if (ProcessRunner.Which(tool) is null)
            {
                return (null, $"{tool} is not installed: it builds guest-module-templates/tools (apt-get install gcc libc6-dev make)");
            }
        }

        return (new GuestEnvironment(qemu, kernel, BusyboxPath, AcceleratorArgs()), string.Empty);
    }

    /// <summary>
    /// The image a guest without a chosen kernel boots: $STARGATE_GUEST_KERNEL if set (it must
    /// exist), else that of <see cref="KernelMatrix.Default"/>; or null with the reason.
    /// </summary>
    private static string? DefaultKernel(out string reason)
    {
        string? chosen = Environment.GetEnvironmentVariable(KernelVariable);
        if (!string.IsNullOrEmpty(chosen))
        {
            reason = File.Exists(chosen) ? string.Empty : $"{KernelVariable}={chosen} does not exist";
            return File.Exists(chosen) ? chosen : null;
        }

        if (KernelMatrix.Default is { InstalledRelease: { } release })
        {
            reason = string.Empty;
            return GuestKernel.ImagePath(release);
        }

        var generic = KernelMatrix.Kernels.Where(k => k.Flavor == "generic").ToList();
        reason = $"no guest kernel: /boot has the image of no generic kernel of {KernelMatrix.RelativePath} "
            + $"({string.Join("; ", generic.Select(k => k.InstallCommand))}), and {KernelVariable} is not set";
        return null;
    }

    /// <summary>TCG by default (KVM hangs at guest boot on these machines); STARGATE_ACCEL=kvm for KVM.</summary>
    private static string[] AcceleratorArgs()
    {
        string? accel = Environment.GetEnvironmentVariable(AccelVariable);
        return accel switch
        {
            null or "" or "tcg" => ["-accel", "tcg", "-cpu", "max"],
            "kvm" => ["-accel", "kvm", "-cpu", "host"],
            _ => throw new InvalidOperationException($"{AccelVariable}={accel}: use tcg (the default) or kvm"),
        };
    }
}
