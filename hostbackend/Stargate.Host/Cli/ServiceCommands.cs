using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Zone;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>`stargate serve`, and `peers` and `ring`, which talk to a running service.</summary>
internal static class ServiceCommands
{
    public static IEnumerable<Command> Create() => [Serve(), Peers(), Ring()];

    private static Option<string> SocketOption() =>
        new("--socket") { Description = "The ivshmem server socket (QEMU's -chardev socket,path=...).", Required = true };

    private static Option<string?> ControlOption() =>
        new("--control") { Description = "The control socket (default: the server socket's path + .ctl)." };

    private static string ControlPath(ParseResult r, Option<string> socket, Option<string?> control) =>
        r.GetValue(control) ?? r.GetValue(socket)! + ".ctl";

    private static Command Serve()
    {
        var zoneArg = new Argument<string>("zone") { Description = "Zone file to serve." };
        var socket = SocketOption();
        var control = ControlOption();
        var vectors = new Option<int>("--vectors") { Description = $"Interrupt vectors per peer (1..{ServerLimits.MaxVectors}); QEMU's ivshmem-doorbell vectors= must match.", DefaultValueFactory = _ => ServerLimits.DefaultVectors };
        var maxPeers = new Option<int>("--max-peers") { Description = "Most guests at once (at most the zone's peer slots - 1).", DefaultValueFactory = _ => 64 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every doorbell and ring." };
        var command = new Command("serve", "Serve a zone to QEMU guests over the ivshmem server protocol, in the foreground (stop with SIGTERM or Ctrl-C).")
        {
            zoneArg, socket, control, vectors, maxPeers, verbose,
        };
        command.SetAction(r => StargateCli.Guard(() =>
        {
            int v = r.GetValue(vectors);
            if (v < 1 || v > ServerLimits.MaxVectors)
            {
                return StargateCli.BadUsage($"--vectors {v} is outside 1..{ServerLimits.MaxVectors}", "serve");
            }

            if (r.GetValue(maxPeers) < 1)
            {
                return StargateCli.BadUsage("--max-peers must be at least 1", "serve");
            }

            using var logs = LoggerFactory.Create(b => b
                .SetMinimumLevel(r.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace) // stdout stays clean
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    o.UseUtcTimestamp = true;
                }));
            var log = logs.CreateLogger("stargate.serve");
            using var zone = ZoneOpener.Open(r.GetValue(zoneArg)!, ZoneAccess.ReadWrite, "serve");
            var options = new ServerOptions(r.GetValue(socket)!, ControlPath(r, socket, control), v, r.GetValue(maxPeers));
            using var server = new IvshmemServer(zone, options, log);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            Console.Error.WriteLine($"stargate: serving {zone.Path} on {options.SocketPath}");
            server.Run();
            return StargateCli.Ok;

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                server.Stop();
            }
        }));
        return command;
    }

    private static Command Peers()
    {
        var socket = SocketOption();
        var control = ControlOption();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("peers", "List the peers of a running `stargate serve`: the host (id 0) and each guest.") { socket, control, json };
        command.SetAction(r => StargateCli.Guard(() =>
        {
            string reply = Ask(ControlPath(r, socket, control), "peers");
            if (r.GetValue(json))
            {
                Console.WriteLine(reply);
                return StargateCli.Ok;
            }

            var peers = JsonSerializer.Deserialize<PeerStatus[]>(reply, PeerStatus.Json) ?? [];
            Console.WriteLine("  id  kind      pid  connected since        doorbells received per vector");
            foreach (var p in peers)
            {
                string doorbells = p.Kind == "host" ? string.Join(' ', p.Doorbells) : "-";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Id,4}  {p.Kind,-5} {p.Pid,7}  {p.Since:yyyy-MM-dd HH:mm:ss}Z   {doorbells}"));
            }

            return StargateCli.Ok;
        }));
        return command;
    }

    private static Command Ring()
    {
        var socket = SocketOption();
        var control = ControlOption();
        var peer = new Option<int>("--peer") { Description = "The guest's id.", Required = true };
        var vector = new Option<int>("--vector") { Description = "Its interrupt vector.", DefaultValueFactory = _ => 0 };
        var command = new Command("ring", "Make a running `stargate serve` ring a guest's doorbell (an MSI-X interrupt in the guest).") { socket, control, peer, vector };
        command.SetAction(r => StargateCli.Guard(() =>
        {
            string reply = Ask(ControlPath(r, socket, control), $"ring {r.GetValue(peer)} {r.GetValue(vector)}");
            return reply == "ok" ? StargateCli.Ok : StargateCli.Fail(reply.StartsWith("error: ", StringComparison.Ordinal) ? reply[7..] : reply);
        }));
        return command;
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
