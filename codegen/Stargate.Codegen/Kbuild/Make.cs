using System.Globalization;

namespace Stargate.Codegen.Kbuild;

/// <summary>Runs Kbuild for an external module: make -C HEADERS M=DIR TARGETS.</summary>
internal static class Make
{
    public const string InstallHint = "install the kernel build tools: apt-get install make gcc";

    /// <summary>Runs make in the kernel's headers on the module folder and waits for it.</summary>
    public static ToolResult Run(string headers, string moduleDirectory, IEnumerable<string> targets)
    {
        var arguments = new List<string>
        {
            "-j" + Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            "-C",
            headers,
            "M=" + moduleDirectory,
        };
        arguments.AddRange(targets);
        return ExternalTool.Run("make", arguments, InstallHint);
    }
}
