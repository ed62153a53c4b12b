using System.Diagnostics;
using System.Globalization;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// A `stargate` command running in the background (serve, or a lock holding its command),
/// its output read line by line; Dispose kills what is still running.
/// </summary>
internal sealed class BackgroundStargate : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly CountdownEvent _streamsEnded = new(2);

    public BackgroundStargate(params string[] args)
        : this(new Dictionary<string, string>(), args)
    {
    }

    /// <summary>With <paramref name="environment"/> added to this process's environment.</summary>
    public BackgroundStargate(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "stargate.dll") }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Add(_stdout, e.Data, _streamsEnded);
        _process.ErrorDataReceived += (_, e) => Add(_stderr, e.Data, _streamsEnded);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>`stargate serve ZONE --socket ZONE.sock`, once it says it serves.</summary>
    public static BackgroundStargate Serve(TempZone zone)
    {
        var serve = new BackgroundStargate("serve", zone.Path, "--socket", zone.Scratch("sock"));
        zone.Scratch("sock.ctl");
        zone.Scratch("serve");
        serve.WaitForStderr("stargate: serving");
        return serve;
    }

    public string Stdout => Snapshot(_stdout);

    public string Stderr => Snapshot(_stderr);

    /// <summary>Closes the command's standard input (a `read` in it returns).</summary>
    public void CloseInput() => _process.StandardInput.Close();

    public void Terminate()
    {
        Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
    }

    /// <summary>SIGKILL, as a crash: nothing of the process runs after it.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(TimeSpan.FromSeconds(10));
    }

    public int WaitForExit()
    {
        Assert.True(_process.WaitForExit(30_000), $"stargate did not exit\nstdout: {Stdout}\nstderr: {Stderr}");
        // Waits for both readers to reach the end of their stream (WaitForExit with a timeout
        // does not wait for the last lines); bounded, since a process another test started at
        // the same instant can hold this one's pipes open (ProcessRunner says more).
        _streamsEnded.Wait(TimeSpan.FromSeconds(5));
        return _process.ExitCode;
    }

    public void WaitForStdout(string text) => WaitFor(_stdout, text);

    public void WaitForStderr(string text) => WaitFor(_stderr, text);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(5));
        }

        _process.Dispose();

        // _streamsEnded is left to the collector: a reader may still end its stream after this.
    }

    /// <summary>One line from a reader; null is its end of stream.</summary>
    private static void Add(List<string> lines, string? line, CountdownEvent ended)
    {
        if (line is null)
        {
            ended.Signal();
            return;
        }

        lock (lines)
        {
            lines.Add(line);
        }
    }

    private static string Snapshot(List<string> lines)
    {
        lock (lines)
        {
            return string.Join('\n', lines);
        }
    }

    private void WaitFor(List<string> lines, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Snapshot(lines).Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(TimeSpan.FromSeconds(5)); // flushes the asynchronous readers (bounded: see WaitForExit)
                Assert.True(Snapshot(lines).Contains(text, StringComparison.Ordinal), $"stargate exited without printing '{text}'\nstdout: {Stdout}\nstderr: {Stderr}");
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"stargate never printed '{text}'\nstdout: {Stdout}\nstderr: {Stderr}");
            Thread.Sleep(20);
        }
    }
}
