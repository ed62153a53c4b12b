using System.Diagnostics;

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
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {Timeout}");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
