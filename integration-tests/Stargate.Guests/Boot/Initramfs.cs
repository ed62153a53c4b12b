using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Stargate.Guests.Checkout;
using Stargate.Guests.Kernels;
using Stargate.Guests.Qemu;

namespace Stargate.Guests.Boot;

/// <summary>
/// The guests' initramfs, in two gzip'd newc archives that the kernel unpacks one after the
/// other (it accepts concatenated compressed archives):
/// <list type="bullet">
/// <item>the base, built once per run and cached by content hash under
/// artifacts/guest-initramfs: /init (Boot/init.sh), /bin/busybox (+ /bin/sh; init installs
/// the other applet links), /bin/sgtool, /bin/sgfstest, /bin/sgbench, /dev/console;</item>
/// <item>for a guest that loads a kernel module, an archive with it in <see cref="ModuleDirectory"/>,
/// cached by content hash the same way;</item>
/// <item>for a guest that needs modules of its kernel's own tree (<see cref="GuestOptions.KernelModules"/>),
/// an archive with them in <see cref="KernelModules.Directory"/> and their load order in
/// <see cref="KernelModules.ListPath"/>, built once per set of modules in a run;</item>
/// <item>a small per-guest archive with the test's script at <see cref="ScriptPath"/>.</item>
/// </list>
/// All are deterministic: the same inputs give the same bytes.
/// </summary>
public static class Initramfs
{
    /// <summary>Where a guest's script lands; the kernel parameter stargate.script= names it.</summary>
    public const string ScriptPath = "/stargate/test.sh";

    /// <summary>Where a guest's kernel module lands (insmod /lib/stargatefs.ko).</summary>
    public const string ModuleDirectory = "/lib";

    private static readonly Lazy<byte[]> LazyBase = new(() => Cached("base", BuildBaseArchive()));
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<byte[]>> KernelModuleArchives = new();

    /// <summary>The base archive (gzip'd), built on first use.</summary>
    public static byte[] Base => LazyBase.Value;

    /// <summary>The init script, as embedded in this library.</summary>
    public static string InitScript
    {
        get
        {
            using var stream = typeof(Initramfs).Assembly.GetManifestResourceStream("Stargate.Guests.init.sh")
                ?? throw new InvalidOperationException("the init.sh resource is missing from the guest library");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
    }

    /// <summary>
    /// Writes the initrd for one guest to @path: the base, then the kernel module at host path
    /// @module (if any) in /lib, then the module files @kernelModules (host paths in load
    /// order, <see cref="KernelModules.Resolve"/>), then @script (if any) as /stargate/test.sh.
    /// </summary>
    public static void WriteForGuest(string path, string? script, string? module = null, IReadOnlyList<string>? kernelModules = null)
    {
        using var file = File.Create(path);
        file.Write(Base);
        if (module is not null)
        {
            file.Write(ModuleArchive(module));
        }

        if (kernelModules is { Count: > 0 })
        {
            string key = string.Join('\n', kernelModules);
            file.Write(KernelModuleArchives.GetOrAdd(key, _ => new Lazy<byte[]>(() => KernelModuleArchive(kernelModules))).Value);
        }

        if (script is not null)
        {
            var extra = new NewcArchive()
                .Directory("/stargate")
                .File(ScriptPath, Encoding.UTF8.GetBytes(script), permissions: 0x1ED);
            file.Write(Gzip(extra.Finish()));
        }
    }

    /// <summary>The base archive uncompressed, for tests of the archive itself.</summary>
    public static byte[] BuildBaseArchive()
    {
        return new NewcArchive()
            .Directory("/bin")
            .Directory("/dev")
            .Directory("/proc")
            .Directory("/sys")
            .Directory("/tmp", permissions: 0x3FF /* 01777 */)
            .Directory("/stargate")
            .CharDevice("/dev/console", 5, 1)
            .File("/init", Encoding.UTF8.GetBytes(InitScript), permissions: 0x1ED)
            .File("/bin/busybox", File.ReadAllBytes(GuestEnvironment.BusyboxPath), permissions: 0x1ED)
            .Symlink("/bin/sh", "busybox")
            .File("/bin/sgtool", File.ReadAllBytes(GuestTools.Sgtool), permissions: 0x1ED)
            .File("/bin/sgfstest", File.ReadAllBytes(GuestTools.Sgfstest), permissions: 0x1ED)
            .File("/bin/sgbench", File.ReadAllBytes(GuestTools.Sgbench), permissions: 0x1ED)
            .File("/bin/sgposix", File.ReadAllBytes(GuestTools.Sgposix), permissions: 0x1ED)
            .Finish();
    }

    /// <summary>
    /// The gzip'd archive holding @module as /lib/NAME, cached by content hash under the name of
    /// the module's folder (artifacts/modules/RELEASE/): each kernel keeps its own.
    /// </summary>
    private static byte[] ModuleArchive(string module)
    {
        var archive = new NewcArchive()
            .Directory(ModuleDirectory)
            .File($"{ModuleDirectory}/{Path.GetFileName(module)}", File.ReadAllBytes(module))
            .Finish();
        return Cached($"module-{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(module)))}", archive);
    }

    /// <summary>The gzip'd archive of the kernel's own modules @files, unpacked, with their load order.</summary>
    private static byte[] KernelModuleArchive(IReadOnlyList<string> files)
    {
        var archive = new NewcArchive().Directory(KernelModules.Directory);
        foreach (string file in files)
        {
            archive.File(KernelModules.GuestPath(file), KernelModules.Read(file));
        }

        string order = string.Concat(files.Select(f => KernelModules.GuestPath(f) + "\n"));
        return Gzip(archive.File(KernelModules.ListPath, Encoding.UTF8.GetBytes(order)).Finish());
    }

    /// <summary>
    /// @archive gzip'd, from artifacts/guest-initramfs/KIND-HASH.cpio.gz when an earlier run
    /// made it (gzip of a large archive costs seconds); other KIND-* files there are from
    /// earlier inputs and are removed.
    /// </summary>
    private static byte[] Cached(string kind, byte[] archive)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(archive))[..16];
        string cache = Path.Combine(RepoPaths.Artifacts("guest-initramfs"), $"{kind}-{hash}.cpio.gz");
        if (File.Exists(cache))
        {
            return File.ReadAllBytes(cache);
        }

        foreach (string old in Directory.EnumerateFiles(Path.GetDirectoryName(cache)!, $"{kind}-*.cpio.gz"))
        {
            File.Delete(old);
        }

        byte[] compressed = Gzip(archive);
        string temporary = $"{cache}.{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temporary, compressed);
        File.Move(temporary, cache, overwrite: true);
        return compressed;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
