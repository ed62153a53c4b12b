using System.CommandLine;
using System.Runtime.InteropServices;
using Stargate.Host.Mount;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Cli;

/// <summary>
/// `stargate mount ZONE MOUNTPOINT [-o ro] [-o allow_other]`: the zone as a POSIX file system
/// on the host, through FUSE (docs/host-mount.md). Without a running `stargate serve` this
/// process opens the zone as its writer and serves the mount in the foreground until it is
/// unmounted (fusermount3 -u, or SIGTERM/Ctrl-C here). With serve running, the command goes
/// to serve, which mounts in its own process (the one writer of structure) and keeps the
/// mount until it is unmounted or serve stops; this command then returns at once.
/// </summary>
internal sealed class MountCommands(CliSession session)
{
    public IEnumerable<Command> Create() => [Mount()];

    /// <summary>The mount options a user may give with -o (comma-separated or repeated): ro, rw, allow_other.</summary>
    internal static bool TryParseOptions(IEnumerable<string> values, out MountOptions options, out string? bad)
    {
        options = new MountOptions();
        bad = null;
        foreach (string word in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            switch (word)
            {
                case "ro":
                    options = options with { ReadOnly = true };
                    break;
                case "rw":
                    options = options with { ReadOnly = false };
                    break;
                case "allow_other":
                    options = options with { AllowOther = true };
                    break;
                default:
                    bad = word;
                    return false;
            }
        }

        return true;
    }

    private Command Mount()
    {
        var zoneArg = new Argument<string>("zone") { Description = "Zone file." };
        var mountpoint = new Argument<string>("mountpoint") { Description = "An empty directory to mount the zone on." };
        var opts = new Option<string[]>("-o") { Description = "Mount options: ro (read-only), allow_other (other users may use the mount; needs user_allow_other in /etc/fuse.conf for a non-root user).", AllowMultipleArgumentsPerToken = false };
        var command = new Command("mount", "Mount a zone on the host through FUSE; in the foreground until unmounted (fusermount3 -u MOUNTPOINT, or SIGTERM).")
        {
            zoneArg, mountpoint, opts,
        };
        command.SetAction(r => session.Guard(() =>
        {
            if (!TryParseOptions(r.GetValue(opts) ?? [], out var options, out string? bad))
            {
                return session.BadUsage($"-o {bad}: unknown mount option (known: ro, rw, allow_other)", "mount");
            }

            string where = System.IO.Path.GetFullPath(session.HostPath(r.GetValue(mountpoint)!));
            MountPoints.Check(where);  // before the zone: a mount point in use is the first thing to say
            if (options.ReadOnly && !session.Forwarded)
            {
                using var readOnly = ZoneOpener.Open(session.HostPath(r.GetValue(zoneArg)!), ZoneAccess.ReadOnly, "mount");
                return Foreground(readOnly, where, options);
            }

            return session.Writing(r.GetValue(zoneArg)!, "mount", zone =>
            {
                if (!session.Forwarded)
                {
                    return Foreground(zone, where, options);
                }

                // Silent on success, as mount(8); serve's log says it.
                BackgroundMounts.Start(zone, where, options, message => Console.Error.WriteLine($"stargate: {message}"));
                Console.Error.WriteLine($"stargate: mounted {zone.Path} on {where} for a client; unmount with 'fusermount3 -u {where}'");
                return StargateCli.Ok;
            });
        }));
        return command;
    }

    private int Foreground(Zone zone, string where, MountOptions options)
    {
        if (zone.IsWritable)
        {
            // Host locks live as long as the process that took them: any in the host's slot now
            // were left by a writer that died (no `stargate lock` runs without serve).
            using (zone.Exclusive())
            {
                zone.Locks.DropLocks(SgzAbi.HostPeerSlot);
            }
        }

        using var mount = ZoneMount.Mount(zone, where, options, MountLocks.Direct(zone), session.Err.WriteLine);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        session.Err.WriteLine($"stargate: {zone.Path} mounted on {where}{(options.ReadOnly ? " read-only" : string.Empty)}; unmount with 'fusermount3 -u {where}' or SIGTERM");
        mount.Run();
        session.Err.WriteLine($"stargate: unmounted {where}");
        return StargateCli.Ok;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            mount.Stop();
        }
    }
}
