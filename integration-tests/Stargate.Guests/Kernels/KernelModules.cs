using Stargate.Guests.Qemu;
using Stargate.Testing;

namespace Stargate.Guests.Kernels;

/// <summary>
/// Modules of a guest kernel's own tree (/lib/modules/RELEASE, from Debian's linux-image
/// package) for a guest that needs more than the kernel has built in: virtio_net, 9p, nfsv4,
/// cifs and their dependencies. Each name is resolved with the host's
/// `modprobe -S RELEASE --show-depends NAME` (kmod), which lists the files in load order
/// without loading anything; compressed modules (.ko.xz, Debian's form) are unpacked with xz,
/// since busybox insmod hands the kernel raw bytes. The guest's /init loads them in
/// <see cref="ListPath"/>'s order before anything else runs. Flavors differ: the cloud
/// kernels have no 9p or 9pnet_virtio at all (CONFIG_NET_9P is unset), and asking for a module a
/// kernel lacks is an error that says so.
/// </summary>
public static class KernelModules
{
    /// <summary>Where the modules land in the guest.</summary>
    public const string Directory = "/lib/kmod";

    /// <summary>The load order, one guest path per line, read by /init.</summary>
    public const string ListPath = "/stargate/modules";

    /// <summary>The module files for @names on @release, dependencies first, each once; built-in ones are left out.</summary>
    public static IReadOnlyList<string> Resolve(string release, IReadOnlyList<string> names)
    {
        var files = new List<string>();
        foreach (string name in names)
        {
            var result = ProcessRunner.Run("modprobe", ["-S", release, "--show-depends", name]);
            if (result.ExitCode != 0 && System.IO.Directory.Exists($"/lib/modules/{release}") && result.Stderr.Contains("not found", StringComparison.Ordinal))
            {
                string flavor = KernelMatrix.Of(release) is { } kernel ? $" (kernel {kernel.Id} of the matrix)" : string.Empty;
                throw new GuestException($"kernel {release}{flavor} has no module {name}, built in or in /lib/modules/{release}: that flavor lacks it; boot another kernel");
            }

            if (result.ExitCode != 0)
            {
                throw new GuestException($"modprobe -S {release} --show-depends {name} failed (is linux-image-{release} installed? kmod?):\n{result.Stderr.Trim()}");
            }

            foreach (string line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words[0] == "builtin")
                {
                    continue;
                }

                if (words.Length < 2 || words[0] != "insmod")
                {
                    throw new GuestException($"modprobe --show-depends {name}: unexpected line '{line}'");
                }

                if (!files.Contains(words[1]))
                {
                    files.Add(words[1]);
                }
            }
        }

        return files;
    }

    /// <summary>The uncompressed bytes of the module file at @path (.ko, or .ko.xz through xz -dc).</summary>
    public static byte[] Read(string path)
    {
        if (path.EndsWith(".ko", StringComparison.Ordinal))
        {
            return File.ReadAllBytes(path);
        }

        if (!path.EndsWith(".ko.xz", StringComparison.Ordinal))
        {
            throw new GuestException($"{path}: only .ko and .ko.xz modules can be put in a guest");
        }

        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("xz", ["-dc", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new GuestException("could not start xz (apt-get install xz-utils)");
        var stderr = process.StandardError.ReadToEndAsync();
        using var bytes = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(bytes);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new GuestException($"xz -dc {path} exited with {process.ExitCode}: {stderr.Result.Trim()}");
        }

        return bytes.ToArray();
    }

    /// <summary>The guest path of the module file @hostPath.</summary>
    public static string GuestPath(string hostPath)
    {
        string name = Path.GetFileName(hostPath);
        return $"{Directory}/{(name.EndsWith(".xz", StringComparison.Ordinal) ? name[..^3] : name)}";
    }
}
