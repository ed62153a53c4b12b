using System.CommandLine;
using System.Text.Json;
using Stargate.Host.Zone;
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

    public static int Run(string[] args)
    {
        var root = new RootCommand("Stargate: a shared in-memory file system for the VMs of one host, and for the host.");
        root.Subcommands.Add(ZoneCommands.Create());
        foreach (var command in FileCommands.Create().Concat(ServiceCommands.Create()).Concat(QemuCommands.Create()))
        {
            root.Subcommands.Add(command);
        }

        RejectOptionLikeArguments(root);
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // An unknown word explains the other errors it causes ("required command missing").
            var error = result.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? result.Errors[0];
            Console.Error.WriteLine($"stargate: {error.Message} (see '{CommandPath(result.CommandResult)} --help')");
            return Usage;
        }

        return result.Invoke();
    }

    /// <summary>Runs a command body, turning every expected failure into one line and an exit code.</summary>
    internal static int Guard(Func<int> body)
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
            Console.Error.WriteLine($"stargate: internal error: {e.GetType().Name}: {e.Message} (set STARGATE_DEBUG=1 for the stack trace)");
            return InternalError;
        }
    }

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"stargate: {message}");
        return Failed;
    }

    /// <summary>A value on the command line that does not parse: exit 2, like any other usage error.</summary>
    internal static int BadUsage(string message, string command)
    {
        Console.Error.WriteLine($"stargate: {message} (see 'stargate {command} --help')");
        return Usage;
    }

    /// <summary>
    /// A misspelled option ("--parent") would otherwise fill an empty argument slot and be
    /// taken as a path; no zone path or file argument here starts with '-' (but "-" alone,
    /// standard output). Write ./-name for a file whose name does.
    /// </summary>
    private static void RejectOptionLikeArguments(Command command)
    {
        foreach (var argument in command.Arguments)
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
