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

    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "stargate.dll"));
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
            throw new TimeoutException($"stargate {string.Join(' ', args)} did not finish in {Timeout}");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
