using Stargate.Testing;
using Stargate.IntegrationTests.Support;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// What booting a guest needs from this machine, checked once. A test calls
/// <see cref="RequireOrSkip"/> first: anything missing makes it a skip that names the missing
/// piece and how to get it, never a silent pass.
/// </summary>
public sealed record GuestEnvironment(string Qemu, string Kernel, string Busybox, IReadOnlyList<string> Accelerator)
{
    public const string AccelVariable = "STARGATE_ACCEL";
    public const string QemuBinary = "qemu-system-x86_64";
    public const string BusyboxPath = "/bin/busybox";

    private static readonly Lazy<(GuestEnvironment? Environment, string Reason)> Probe = new(Detect);

    /// <summary>The environment, or a skip of the running [SkippableFact] naming what is missing.</summary>
    public static GuestEnvironment RequireOrSkip()
    {
        var (environment, reason) = Probe.Value;
        Skip.If(environment is null, reason);
        return environment!;
    }

    private static (GuestEnvironment?, string) Detect()
    {
        string? qemu = ProcessRunner.Which(QemuBinary);
        if (qemu is null)
        {
            return (null, $"{QemuBinary} is not installed (apt-get install qemu-system-x86)");
        }

        string? kernel = GuestKernel.Find(out string reason);
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
