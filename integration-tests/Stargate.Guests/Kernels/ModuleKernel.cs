using Stargate.Guests.Checkout;

namespace Stargate.Guests.Kernels;

/// <summary>
/// A kernel of the matrix ready for the guest module: its newest installed release, the
/// image /boot/vmlinuz-RELEASE and artifacts/modules/RELEASE/stargatefs.ko.
/// <see cref="Find"/> names whatever is missing and what provides it; a test turns that into a
/// skip, never a silent pass.
/// </summary>
public sealed record ModuleKernel(GuestKernel Kernel, string Release, string Module)
{
    public const string ModuleName = "stargatefs.ko";
    public const string BuildCommand = "./build.sh --target=Build-Guest-Modules";

    /// <summary>artifacts/modules/RELEASE/stargatefs.ko, where the build puts the module of @release.</summary>
    public static string ModulePath(string release) => Path.Combine(RepoPaths.Root, "artifacts", "modules", release, ModuleName);

    /// <summary>@kernel's newest installed release with its image and module, or null with the reason one is missing.</summary>
    public static ModuleKernel? Find(GuestKernel kernel, out string reason) => Find(kernel, kernel.InstalledRelease, out reason);

    /// <summary>As <see cref="Find(GuestKernel, out string)"/>, for @release of @kernel (null: none installed).</summary>
    public static ModuleKernel? Find(GuestKernel kernel, string? release, out string reason)
    {
        if (release is null)
        {
            reason = $"kernel {kernel.Id}: no release matching {kernel.ReleasePattern} is installed ({kernel.InstallCommand})";
            return null;
        }

        if (!File.Exists(GuestKernel.ImagePath(release)))
        {
            reason = $"kernel {kernel.Id}: {GuestKernel.ImagePath(release)} is missing ({kernel.InstallCommand})";
            return null;
        }

        string module = ModulePath(release);
        if (!File.Exists(module))
        {
            reason = $"kernel {kernel.Id}: {Path.GetRelativePath(RepoPaths.Root, module)} is missing: build the guest module with {BuildCommand}";
            return null;
        }

        reason = string.Empty;
        return new ModuleKernel(kernel, release, module);
    }

    public override string ToString() => Release;
}
