using Stargate.Guests.Boot;
using Stargate.Guests.Kernels;

namespace Stargate.Guests.Qemu;

/// <summary>How to boot one guest.</summary>
public sealed record GuestOptions
{
    /// <summary>Extra QEMU arguments: the devices under test (see <see cref="QemuDevices"/>).</summary>
    public IReadOnlyList<string> Devices { get; init; } = [];

    /// <summary>
    /// A shell script (busybox ash) run by /init after boot, with $SG_DEV set to the first
    /// ivshmem device and sg_say/sg_check/sg_value defined (see Boot/init.sh). Null: none.
    /// </summary>
    public string? Script { get; init; }

    /// <summary>Boot /boot/vmlinuz-RELEASE (<see cref="ModuleKernel"/>); null: the default kernel (<see cref="GuestEnvironment.Kernel"/>).</summary>
    public string? KernelRelease { get; init; }

    /// <summary>A kernel module on the host, put in the initramfs as /lib/NAME (<see cref="Initramfs.ModuleDirectory"/>); null: none.</summary>
    public string? Module { get; init; }

    /// <summary>
    /// Modules of the guest kernel's own tree to load at boot, by name as modprobe knows them
    /// ("virtio_net", "9p", "nfsv4", "cifs"); their dependencies come too (<see cref="Kernels.KernelModules"/>).
    /// </summary>
    public IReadOnlyList<string> KernelModules { get; init; } = [];

    /// <summary>After the script, read commands from ttyS1 (<see cref="QemuGuest.Exec"/>); false: power off.</summary>
    public bool Interactive { get; init; } = true;

    /// <summary>Guest memory (QEMU -m).</summary>
    public string Memory { get; init; } = "256M";

    /// <summary>
    /// The longest any single wait may take (boot, a marker, a command). Generous: two TCG
    /// guests on two shared cores boot in 5-10 s, but a loaded machine can be far slower.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
}
