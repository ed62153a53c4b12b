using Stargate.Testing;
using Stargate.IntegrationTests.Support;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// The static guest-side tools of guest-module-templates/tools, built once per test run with
/// that folder's Makefile into artifacts/guest-tools (make rebuilds only what changed).
/// </summary>
public static class GuestTools
{
    private static readonly Lazy<string> LazySgtool = new(Build);

    /// <summary>The host path of the built sgtool; a build failure throws with gcc's output.</summary>
    public static string Sgtool => LazySgtool.Value;

    private static string Build()
    {
        string output = RepoPaths.Artifacts("guest-tools");
        string sources = Path.Combine(RepoPaths.Root, "guest-module-templates", "tools");
        var result = ProcessRunner.Run("make", ["-s", "-C", sources, $"O={output}"]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"building guest-module-templates/tools failed:\n{result.Stdout}{result.Stderr}");
        }

        string sgtool = Path.Combine(output, "sgtool");
        if (!StaticElf.IsStatic(sgtool))
        {
            throw new InvalidOperationException($"{sgtool} is not a static ELF64 executable: the guest has no libc");
        }

        return sgtool;
    }
}
