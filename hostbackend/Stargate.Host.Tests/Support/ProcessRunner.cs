using System.Diagnostics;
using System.Text;

// Shared by the host tests and the guest tests (linked into integration-tests/Stargate.Guests): one runner.
namespace Stargate.Testing;

/// <summary>Runs a short-lived command to completion, with a timeout, capturing its output.</summary>
public static class ProcessRunner
{
    public sealed record Result(string Command, int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"{Command}: exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary>Runs @file with @args (and @environment added); stdin is empty. Throws <see cref="TimeoutException"/> after killing it.</summary>
    public static Result Run(string file, IEnumerable<string> args, TimeSpan? timeout = null, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        string command = $"{file} {string.Join(' ', info.ArgumentList)}";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command}");
        process.StandardInput.Close();
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var pumps = new[] { Pump(process.StandardOutput.BaseStream, stdout), Pump(process.StandardError.BaseStream, stderr) };
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{command} did not finish in {limit.TotalSeconds:0} s");
        }

        // End of file normally follows the exit at once. It does not when another process holds
        // the pipes' write ends: a long-lived child another test started (a `stargate serve`) at
        // the instant this one was forked, and inherited them. The command has exited, so all it
        // wrote is in the pipes: take what the pumps read, rather than wait for that other
        // process to end (seen: a test run hung on it).
        if (!pumps.All(p => p.Join(TimeSpan.FromSeconds(5))))
        {
            Thread.Sleep(200);
        }

        return new Result(command, process.ExitCode, Text(stdout), Text(stderr));
    }

    /// <summary>Copies @from into @into on a thread of its own (not the pool, which busy parallel tests can starve).</summary>
    private static Thread Pump(Stream from, MemoryStream into)
    {
        var thread = new Thread(() =>
        {
            byte[] buffer = new byte[65536];
            try
            {
                int n;
                while ((n = from.Read(buffer)) > 0)
                {
                    lock (into)
                    {
                        into.Write(buffer, 0, n);
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // Run gave up waiting for end of file and disposed the process (and this stream).
            }
        })
        { IsBackground = true, Name = "process output" };
        thread.Start();
        return thread;
    }

    private static string Text(MemoryStream bytes)
    {
        lock (bytes)
        {
            return Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
        }
    }

    /// <summary>As <see cref="Run"/>, but a non-zero exit is an exception carrying the output.</summary>
    public static Result RunChecked(string file, IEnumerable<string> args, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var result = Run(file, args, timeout, workingDirectory);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(result.ToString());
        }

        return result;
    }

    /// <summary>The full path of @name on PATH, or null.</summary>
    public static string? Which(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
