using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Service;
using Stargate.Host.Mount;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>`stargate serve`, and `peers`, `ring` and `lock`, which talk to a running service.</summary>
internal sealed class ServiceCommands(CliSession session)
{
    public IEnumerable<Command> Create() => [Serve(), Peers(), Ring(), Lock()];

    private static Option<string> SocketOption() =>
        new("--socket") { Description = "The ivshmem server socket (QEMU's -chardev socket,path=...).", Required = true };

    private static Option<string?> ControlOption() =>
        new("--control") { Description = "The control socket (default: the server socket's path + .ctl)." };

    private static string ControlPath(ParseResult r, Option<string> socket, Option<string?> control) =>
        r.GetValue(control) ?? r.GetValue(socket)!.Split(',')[0] + ".ctl"; // a serve --socket with its options names the same service

    private Command Serve()
    {
        var zoneArg = new Argument<string>("zone") { Description = "Zone file to serve." };
        var socket = new Option<string[]>("--socket")
        {
            Description = "An ivshmem server socket (QEMU's -chardev socket,path=...) as PATH[,ro][,root_squash]: the export policy of every guest that connects through it. Repeat for more sockets; the first names the control socket.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var control = ControlOption();
        var vectors = new Option<int>("--vectors") { Description = $"Interrupt vectors per peer (1..{ServerLimits.MaxVectors}); QEMU's ivshmem-doorbell vectors= must match.", DefaultValueFactory = _ => ServerLimits.DefaultVectors };
        var maxPeers = new Option<int>("--max-peers") { Description = "Most guests at once (at most the zone's peer slots - 1).", DefaultValueFactory = _ => 64 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every doorbell and ring." };
        var pollUs = new Option<int>("--poll-us")
        {
            Description = $"Microseconds the service keeps looking for a guest's next request after answering one, before it sleeps until a doorbell (0..{ServerLimits.MaxPollUs}; 0: never).",
            DefaultValueFactory = _ => (int)ServerLimits.DefaultPollWindow.TotalMicroseconds,
        };
        var allowUsers = new Option<string[]>("--allow-user") { Description = "A user (name or uid) that may connect besides this one and root, as QEMU's user under libvirt; repeatable." };
        var allowGroups = new Option<string[]>("--allow-group") { Description = "A group (name or gid) whose members may connect; repeatable." };
        var mount = new Option<string?>("--mount") { Description = "Also mount the zone on this empty directory (as `stargate mount`), until serve stops or it is unmounted." };
        var mountOptions = new Option<string[]>("--mount-option") { Description = "A mount option for --mount: ro, allow_other; repeatable." };
        var command = new Command("serve", "Serve a zone to QEMU guests over the ivshmem server protocol, in the foreground (stop with SIGTERM or Ctrl-C).")
        {
            zoneArg, socket, control, vectors, maxPeers, pollUs, verbose, allowUsers, allowGroups, mount, mountOptions,
        };
        command.SetAction(r => session.Guard(() =>
        {
            int v = r.GetValue(vectors);
            if (v < 1 || v > ServerLimits.MaxVectors)
            {
                return session.BadUsage($"--vectors {v} is outside 1..{ServerLimits.MaxVectors}", "serve");
            }

            if (r.GetValue(maxPeers) < 1)
            {
                return session.BadUsage("--max-peers must be at least 1", "serve");
            }

            int poll = r.GetValue(pollUs);
            if (poll < 0 || poll > ServerLimits.MaxPollUs)
            {
                return session.BadUsage($"--poll-us {poll} is outside 0..{ServerLimits.MaxPollUs}", "serve");
            }

            var users = (r.GetValue(allowUsers) ?? []).Select(u => (Name: u, Id: UserDatabase.UserId(u))).ToList();
            var groups = (r.GetValue(allowGroups) ?? []).Select(g => (Name: g, Id: UserDatabase.GroupId(g))).ToList();
            if (users.FirstOrDefault(u => u.Id is null).Name is { } user)
            {
                return session.BadUsage($"--allow-user {user}: no such user (give a user name or a uid)", "serve");
            }

            if (groups.FirstOrDefault(g => g.Id is null).Name is { } group)
            {
                return session.BadUsage($"--allow-group {group}: no such group (give a group name or a gid)", "serve");
            }

            if (!MountCommands.TryParseOptions(r.GetValue(mountOptions) ?? [], out var mountWith, out string? badOption))
            {
                return session.BadUsage($"--mount-option {badOption}: unknown mount option (known: ro, rw, allow_other)", "serve");
            }

            if (r.GetValue(mountOptions) is { Length: > 0 } && r.GetValue(mount) is null)
            {
                return session.BadUsage("--mount-option needs --mount DIR", "serve");
            }

            ExportSocket[] sockets;
            try
            {
                sockets = [.. r.GetValue(socket)!.Select(ExportSocket.Parse)];
            }
            catch (ArgumentException e)
            {
                return session.BadUsage(e.Message, "serve");
            }

            using var logs = LoggerFactory.Create(b =>
            {
                b.SetMinimumLevel(r.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information)
                    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout stays clean
                if (SystemdNotify.ToJournal)
                {
                    // Under systemd: "<N>" syslog priorities the journal keeps as each line's level, and no timestamps (the journal's own).
                    b.AddSystemdConsole();
                }
                else
                {
                    b.AddSimpleConsole(o =>
                    {
                        o.SingleLine = true;
                        o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                        o.UseUtcTimestamp = true;
                    });
                }
            });
            var log = logs.CreateLogger("stargate.serve");
            using var zone = ZoneOpener.Open(r.GetValue(zoneArg)!, ZoneAccess.ReadWrite, "serve");
            var options = new ServiceOptions(sockets[0].Path, r.GetValue(control) ?? sockets[0].Path + ".ctl", v, r.GetValue(maxPeers))
            {
                Access = new PeerAccess(users.Select(u => u.Id!.Value), groups.Select(g => g.Id!.Value)),
                Policy = sockets[0].Policy,
                MoreSockets = sockets[1..],
                PollWindow = TimeSpan.FromMicroseconds(poll),
            };
            using var service = new StargateService(zone, options, log, request => StargateCli.RunInServe(zone, request));
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            ServeLink.Publish(zone.Path, options.ControlPath);
            session.Err.WriteLine($"stargate: serving {zone.Path} on {string.Join(' ', options.Sockets.Select(s => s.Policy == ExportPolicy.ReadWrite ? s.Path : s.ToString()))}");
            try
            {
                BackgroundMounts.UseService(zone, service.Requests);
                if (r.GetValue(mount) is { } mountpoint)
                {
                    string where = Path.GetFullPath(mountpoint);
                    BackgroundMounts.Start(zone, where, mountWith, message => ServiceLog.HostMount(log, message));
                    session.Err.WriteLine($"stargate: {zone.Path} mounted on {where}");
                }

                Notify($"READY=1\nSTATUS=serving {zone.Path}\nMAINPID={Environment.ProcessId}");
                service.Run();
            }
            finally
            {
                BackgroundMounts.StopAll();

                ServeLink.Withdraw(zone.Path, options.ControlPath);

                // Host locks live as long as their control connection, which ends with serve.
                zone.Locks.DropLocks(SgzAbi.HostPeerSlot);
            }

            return StargateCli.Ok;

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                Notify("STOPPING=1");
                service.Stop();
            }

            // Type=notify: systemd counts serve as started once its sockets listen and its mount is up.
            void Notify(string state)
            {
                if (!SystemdNotify.Send(state, out string? error) && error is not null)
                {
                    ServiceLog.NotifyFailed(log, error);
                }
            }
        }));
        return command;
    }

    private Command Peers()
    {
        var socket = SocketOption();
        var control = ControlOption();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var reset = new Option<bool>("--reset-worst") { Description = "After listing, start every guest's worst reply time again." };
        var command = new Command("peers", "List the peers of a running `stargate serve`: the host (id 0) and each guest.") { socket, control, json, reset };
        command.SetAction(r => session.Guard(() =>
        {
            string reply = Ask(ControlPath(r, socket, control), r.GetValue(reset) ? "peers reset-worst" : "peers");
            if (reply.StartsWith("error: ", StringComparison.Ordinal))
            {
                return session.Fail(reply[7..]);
            }

            if (r.GetValue(json))
            {
                session.Out.WriteLine(reply);
                return StargateCli.Ok;
            }

            var peers = JsonSerializer.Deserialize<PeerStatus[]>(reply, PeerStatus.Json) ?? [];
            session.Out.WriteLine("  id  kind      pid  connected since        policy            worst reply  grace epoch  doorbells received per vector, or socket");
            foreach (var p in peers)
            {
                string doorbells = p.Kind == "host" ? string.Join(' ', p.Doorbells) : p.Socket ?? "-";
                session.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Id,4}  {Printable.Escape(p.Kind),-5} {p.Pid,7}  {p.Since:yyyy-MM-dd HH:mm:ss}Z   {Printable.Escape(p.Policy ?? "-"),-16}  {(p.WorstReplyUs is long us ? $"{us / 1000.0:F1} ms" : "-"),11}  {(p.GraceEpoch is ulong e ? e.ToString(CultureInfo.InvariantCulture) : "-"),11}  {Printable.Escape(doorbells)}"));
            }

            return StargateCli.Ok;
        }));
        return command;
    }

    private Command Ring()
    {
        var socket = SocketOption();
        var control = ControlOption();
        var peer = new Option<int>("--peer") { Description = "The guest's id.", Required = true };
        var vector = new Option<int>("--vector") { Description = "Its interrupt vector.", DefaultValueFactory = _ => 0 };
        var command = new Command("ring", "Make a running `stargate serve` ring a guest's doorbell (an MSI-X interrupt in the guest).") { socket, control, peer, vector };
        command.SetAction(r => session.Guard(() =>
        {
            string reply = Ask(ControlPath(r, socket, control), $"ring {r.GetValue(peer)} {r.GetValue(vector)}");
            return reply == "ok" ? StargateCli.Ok : session.Fail(reply.StartsWith("error: ", StringComparison.Ordinal) ? reply[7..] : reply);
        }));
        return command;
    }

    /// <summary>The argument of `stargate lock` that is a command line of its own: its words may start with '-'.</summary>
    internal const string LockedCommand = "command";

    private Command Lock()
    {
        var zoneArg = new Argument<string>("zone") { Description = "Zone file, served by a running `stargate serve`." };
        var path = new Argument<string>("path") { Description = "File inside the zone to lock." };
        var command = new Argument<string[]>(LockedCommand) { Description = "The command to run while the lock is held (after --).", Arity = ArgumentArity.OneOrMore };
        var shared = new Option<bool>("--shared") { Description = "A shared lock (LOCK_SH) instead of an exclusive one." };
        var wait = new Option<bool>("--wait") { Description = "Wait for the lock instead of failing when another holder has it." };
        var lockCommand = new Command("lock", "Run a command while holding a zone file's flock, through `stargate serve`: guests' flock() and other host lock holders exclude it.")
        {
            zoneArg, path, command, shared, wait,
        };
        lockCommand.SetAction(r => session.Guard(() =>
        {
            string zonePath = session.HostPath(r.GetValue(zoneArg)!);
            string file = r.GetValue(path)!;
            using var link = ServeLink.TryConnect(zonePath)
                ?? throw new ZoneException(ZoneError.NotFound, $"{zonePath}: no stargate serve is running for this zone, and a lock is only held by one (start `stargate serve {zonePath} --socket PATH` first)");
            if (link.Lock(new LockRequest(file, r.GetValue(shared), r.GetValue(wait), Environment.ProcessId)) is { } refusal)
            {
                return session.Fail(refusal);
            }

            return RunLocked(link, file, r.GetValue(command)!);
        }));
        return lockCommand;
    }

    /// <summary>
    /// Runs <paramref name="argv"/> with this process's standard streams while <paramref name="link"/>
    /// holds the lock. A serve that stops meanwhile took the lock with it: that is said at once,
    /// and the command, left to finish, makes this exit 1 (or its own failing code).
    /// </summary>
    private int RunLocked(ServeLink link, string file, string[] argv)
    {
        var start = new System.Diagnostics.ProcessStartInfo(argv[0]) { UseShellExecute = false, WorkingDirectory = session.WorkingDirectory };
        foreach (string a in argv[1..])
        {
            start.ArgumentList.Add(a);
        }

        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(start) ?? throw new IOException($"{argv[0]}: did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return session.Fail($"{argv[0]}: cannot run it: {e.Message}");
        }

        using (process)
        {
            bool lost = false;
            while (!process.WaitForExit(0))
            {
                if (!lost && link.ClosedWithin(50))
                {
                    lost = true;
                    session.Err.WriteLine($"stargate: the lock on {file} is lost: stargate serve stopped while {argv[0]} (pid {process.Id}) ran");
                }
                else if (lost)
                {
                    process.WaitForExit(50);
                }
            }

            int code = process.ExitCode;
            return lost && code == 0 ? StargateCli.Failed : code;
        }
    }

    /// <summary>One request line to the service's control socket, one reply line back.</summary>
    private static string Ask(string controlPath, string request)
    {
        int fd;
        try
        {
            fd = UnixSockets.Connect(controlPath);
        }
        catch (NativeException e)
        {
            throw new ZoneException(ZoneError.NotFound, $"{controlPath}: no stargate serve answers there ({e.Message.Split(": ")[^1]})");
        }

        using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        using var stream = new FileStream(handle, FileAccess.ReadWrite);
        stream.Write(Encoding.UTF8.GetBytes(request + "\n"));
        stream.Flush();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadLine() ?? throw new IOException($"{controlPath}: the service closed the connection without an answer");
    }
}
