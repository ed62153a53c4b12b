using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>
/// The world one `stargate` command runs in: where its output goes, the directory its
/// relative host paths are taken from, its own argv, and, inside `stargate serve`, the zone
/// serve holds open. A command run by hand gets the console; a command a client forwarded
/// to serve gets string writers, the client's directory and serve's zone, and runs the very
/// same handler (ServeLink, ServiceCommands.Serve).
/// </summary>
internal sealed class CliSession
{
    private readonly Zone? _served;

    private CliSession(TextWriter output, TextWriter error, string workingDirectory, bool terminal, Zone? served, IReadOnlyList<string> args)
    {
        Out = output;
        Err = error;
        WorkingDirectory = workingDirectory;
        Terminal = terminal;
        _served = served;
        Args = args;
    }

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    public string WorkingDirectory { get; }

    /// <summary>Standard error is a terminal (progress lines are drawn only there).</summary>
    public bool Terminal { get; }

    /// <summary>The command runs inside `stargate serve`, forwarded by a client.</summary>
    public bool Forwarded => _served is not null;

    /// <summary>The command line as typed: what a busy writer forwards to serve.</summary>
    public IReadOnlyList<string> Args { get; }

    public static CliSession OnConsole(IReadOnlyList<string> args) =>
        new(Console.Out, Console.Error, Environment.CurrentDirectory, !Console.IsErrorRedirected, null, args);

    /// <summary>A forwarded command inside serve: output kept for the client, <paramref name="zone"/> used instead of opening it.</summary>
    public static CliSession InServe(Zone zone, IReadOnlyList<string> args, string workingDirectory, TextWriter output, TextWriter error) =>
        new(output, error, workingDirectory, false, zone, args);

    /// <summary>
    /// A host path as the user meant it: inside serve, relative ones from the user's directory,
    /// not serve's; on the console, as typed (messages name it so).
    /// </summary>
    public string HostPath(string path) => _served is null ? path : System.IO.Path.GetFullPath(path, WorkingDirectory);

    /// <summary>
    /// Runs <paramref name="body"/> on the zone opened for writing. A zone another process
    /// holds (Busy) whose `stargate serve` answers on the socket named in ZONE.serve gets
    /// this whole command line forwarded there instead: serve runs it on its own zone and
    /// its exit code and output become this command's. Inside serve the served zone is used
    /// as it is (not disposed); another zone is opened as usual.
    /// </summary>
    public int Writing(string zonePath, string command, Func<Zone, int> body)
    {
        string path = HostPath(zonePath);
        if (_served is not null && ServeLink.SameFile(path, _served.Path))
        {
            return body(_served);
        }

        Zone zone;
        try
        {
            zone = ZoneOpener.Open(path, ZoneAccess.ReadWrite, command);
        }
        catch (ZoneException e) when (e.Error == ZoneError.Busy && _served is null && ServeLink.TryConnect(path) is { } connection)
        {
            using (connection)
            {
                var reply = connection.Forward(Args, WorkingDirectory);
                Out.Write(reply.Stdout);
                Err.Write(reply.Stderr);
                return reply.ExitCode;
            }
        }

        using (zone)
        {
            return body(zone);
        }
    }

    /// <summary>Runs a command body, turning every expected failure into one line and an exit code.</summary>
    public int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ZoneException e)
        {
            return Fail(e.Message);
        }
        catch (NativeException e)
        {
            return Fail(e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail(e.Message);
        }
        catch (IOException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("STARGATE_DEBUG") is null)
        {
            Err.WriteLine($"stargate: internal error: {e.GetType().Name}: {Printable.Escape(e.Message)} (set STARGATE_DEBUG=1 for the stack trace)");
            return StargateCli.InternalError;
        }
    }

    /// <summary>One line on stderr, with whatever came from the zone in it escaped (the busy message quotes the writer's recorded command).</summary>
    public int Fail(string message)
    {
        Err.WriteLine($"stargate: {Printable.Escape(message)}");
        return StargateCli.Failed;
    }

    /// <summary>A value on the command line that does not parse: exit 2, like any other usage error.</summary>
    public int BadUsage(string message, string command)
    {
        Err.WriteLine($"stargate: {Printable.Escape(message)} (see 'stargate {command} --help')");
        return StargateCli.Usage;
    }
}
