using Stargate.Testing;

namespace Stargate.Host.Tests.Support;

/// <summary>Runs the real `stargate` command (the built host assembly) as a child process.</summary>
public static class StargateProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    public static Result Run(params string[] args) => Run(new Dictionary<string, string>(), args);

    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(environment, "dotnet", [System.IO.Path.Combine(AppContext.BaseDirectory, "stargate.dll"), .. args]);

    /// <summary>Runs another program the same way (script(1) around stargate, for a terminal).</summary>
    public static Result RunProgram(string program, params string[] args) =>
        Start(new Dictionary<string, string>(), program, args);

    private static Result Start(IReadOnlyDictionary<string, string> environment, string program, string[] args)
    {
        var r = ProcessRunner.Run(program, args, Timeout, environment: environment);
        return new Result(r.ExitCode, r.Stdout, r.Stderr);
    }
}
