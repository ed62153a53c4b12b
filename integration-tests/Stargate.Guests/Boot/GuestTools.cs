using Stargate.Testing;
using Stargate.Guests.Checkout;

namespace Stargate.Guests.Boot;

/// <summary>
/// The static guest-side tools of guest-module-templates/tools, built once per test run with
/// that folder's Makefile into artifacts/guest-tools (make rebuilds only what changed).
/// </summary>
public static class GuestTools
{
    private static readonly Lazy<string> LazyOutput = new(Build);

    /// <summary>The host path of the built sgtool (the ivshmem devices); a build failure throws with gcc's output.</summary>
    public static string Sgtool => Tool("sgtool");

    /// <summary>The host path of the built sgfstest (a mounted stargatefs); it runs on the host too, over any file.</summary>
    public static string Sgfstest => Tool("sgfstest");

    /// <summary>The host path of the built sgbench (one timed file-system workload per run); it runs on the host too, over any directory.</summary>
    public static string Sgbench => Tool("sgbench");

    /// <summary>The host path of the built sgposix (POSIX behaviour case by case, compared with tmpfs); it runs on the host too.</summary>
    public static string Sgposix => Tool("sgposix");

    private static string Tool(string name)
    {
        string path = Path.Combine(LazyOutput.Value, name);
        if (!StaticElf.IsStatic(path))
        {
            throw new InvalidOperationException($"{path} is not a static ELF64 executable: the guest has no libc");
        }

        return path;
    }

    /// <summary>Runs the folder's Makefile once; returns the output folder.</summary>
    private static string Build()
    {
        string output = RepoPaths.Artifacts("guest-tools");
        string sources = Path.Combine(RepoPaths.Root, "guest-module-templates", "tools");
        var result = ProcessRunner.Run("make", ["-s", "-C", sources, $"O={output}"]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"building guest-module-templates/tools failed:\n{result.Stdout}{result.Stderr}");
        }

        return output;
    }
}
