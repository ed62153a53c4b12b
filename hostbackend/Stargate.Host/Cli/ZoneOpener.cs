using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>How the CLI opens zones, with the fault-injection hook the crash tests use.</summary>
internal static class ZoneOpener
{
    /// <summary>
    /// Test hook: with STARGATE_CRASH_AFTER=N the process SIGKILLs itself at the
    /// N-th point where a writer could die (Zone.InjectCrashAt, the test seam), so tests
    /// can kill a real writer at an exact step.
    /// </summary>
    private const string CrashVariable = "STARGATE_CRASH_AFTER";

    public static Zone Open(string path, ZoneAccess access, string command)
    {
        var zone = Zone.Open(path, access, $"stargate {command}");
        if (access == ZoneAccess.ReadWrite && Environment.GetEnvironmentVariable(CrashVariable) is { } text
            && long.TryParse(text, out long countdown) && countdown > 0)
        {
            zone.InjectCrashAt(countdown, static () => Libc.Kill(Libc.Getpid(), Libc.SIGKILL));
        }

        return zone;
    }
}
