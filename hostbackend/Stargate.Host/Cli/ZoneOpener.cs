using Stargate.Host.Zone;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>How the CLI opens zones, with the fault-injection hook the crash tests use.</summary>
internal static class ZoneOpener
{
    /// <summary>
    /// Test hook: with STARGATE_CRASH_AFTER=N the process SIGKILLs itself at the
    /// N-th point where a writer could die (see Journal.CrashPoint), so tests
    /// can kill a real writer at an exact step.
    /// </summary>
    private const string CrashVariable = "STARGATE_CRASH_AFTER";

    public static Zone.Zone Open(string path, ZoneAccess access, string command)
    {
        var zone = Zone.Zone.Open(path, access, $"stargate {command}");
        if (access == ZoneAccess.ReadWrite && Environment.GetEnvironmentVariable(CrashVariable) is { } text
            && long.TryParse(text, out long countdown) && countdown > 0)
        {
            zone.CrashPoint = () =>
            {
                if (--countdown == 0)
                {
                    Libc.Kill(Libc.Getpid(), Libc.SIGKILL);
                }
            };
        }

        return zone;
    }
}
