using System.CommandLine;
using System.Text.Json;
using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>
/// The `stargate` command. Exit codes: 0 done, 1 the operation failed (one
/// line on stderr says what, where and how to fix), 2 the command line was
/// wrong; `zone fsck` has its own (0 clean, 1 problems, 2 not a usable zone).
/// </summary>
public static class StargateCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int InternalError = 70;

    /// <summary>The one JSON style of every --json output: indented, snake_case names.</summary>
    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The commands `stargate serve` runs for a client that found the zone held by serve: those that change a zone.</summary>
    public static readonly IReadOnlySet<string> Changing = new HashSet<string>(StringComparer.Ordinal) { "put", "mkdir", "rm", "rmdir", "mv", "truncate", "xattr", "mount" };

    public static int Run(string[] args) => Run(CliSession.OnConsole(args));

    /// <summary>
    /// Runs a command line forwarded to `stargate serve` on serve's own zone, through the same
    /// handlers as on the command line; only the changing commands (<see cref="Changing"/>).
    /// </summary>
    internal static Service.RunReply RunInServe(Zone zone, Service.RunRequest request)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var session = CliSession.InServe(zone, request.Argv, request.Cwd, output, error);
        int code = Changing.Contains(request.Argv[0])
            ? Run(session)
            : session.BadUsage($"stargate serve runs only the commands that change a zone ({string.Join(", ", Changing.Order(StringComparer.Ordinal))}), not '{request.Argv[0]}'", request.Argv[0]);
        return new(code, output.ToString(), error.ToString());
    }

    private static int Run(CliSession session)
    {
        var root = new RootCommand("Stargate: a shared in-memory file system for the VMs of one host, and for the host.");
        root.Subcommands.Add(new ZoneCommands(session).Create());
        foreach (var command in new FileCommands(session).Create().Concat(new ServiceCommands(session).Create()).Concat(new MountCommands(session).Create()).Concat(new QemuCommands(session).Create()))
        {
            root.Subcommands.Add(command);
        }

        RejectOptionLikeArguments(root);
        var result = root.Parse([.. session.Args]);
        if (result.Errors.Count > 0)
        {
            // An unknown word explains the other errors it causes ("required command missing").
            var error = result.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? result.Errors[0];
            session.Err.WriteLine($"stargate: {error.Message} (see '{CommandPath(result.CommandResult)} --help')");
            return Usage;
        }

        return result.Invoke(new InvocationConfiguration { Output = session.Out, Error = session.Err });
    }

    /// <summary>
    /// A misspelled option ("--parent") would otherwise fill an empty argument slot and be
    /// taken as a path; no zone path or file argument here starts with '-' (but "-" alone,
    /// standard output). Write ./-name for a file whose name does.
    /// </summary>
    private static void RejectOptionLikeArguments(Command command)
    {
        foreach (var argument in command.Arguments.Where(a => a.Name != ServiceCommands.LockedCommand))
        {
            argument.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                {
                    if (token.Value.Length > 1 && token.Value[0] == '-')
                    {
                        result.AddError($"Unrecognized option '{token.Value}'.");
                    }
                }
            });
        }

        foreach (var sub in command.Subcommands)
        {
            RejectOptionLikeArguments(sub);
        }
    }

    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(r.Command is RootCommand ? "stargate" : r.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
