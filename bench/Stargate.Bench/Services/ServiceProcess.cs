using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Stargate.Guests.Checkout;

namespace Stargate.Bench.Services;

/// <summary>
/// A server the harness starts for one file system (ganesha.nfsd, smbd, virtiofsd): its output
/// goes to artifacts/bench-logs/NAME.log, <see cref="WaitUntil"/> waits for it to be ready, and
/// Dispose stops it (SIGTERM, SIGKILL after 10 s) and waits for it. A server that exits early is
/// an error that quotes the end of its log.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _gate = new();
    private readonly List<string> _lines = [];

    private ServiceProcess(string name, string file, IReadOnlyList<string> args)
    {
        Name = name;
        LogPath = TestLogs.PathFor(name);
        _log = new StreamWriter(LogPath) { AutoFlush = true };
        // In a session of its own (setsid execs it in place: a child is no group leader, so
        // the pid stays the server's): smbd ends by signalling its whole process group, which
        // would otherwise be the harness's (and, under dotnet test, the test host's). smbd is
        // then told --no-process-group, since it cannot make a session it already leads.
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(file);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        Add($"# setsid {file} {string.Join(' ', args)}");
        _process = Process.Start(info) ?? throw new BenchException($"{name}: could not start {file}");
        // stdin stays open and empty until the end: smbd --foreground exits when it reads EOF there.
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    /// <summary>Its output, as written so far.</summary>
    public string LogPath { get; }

    /// <summary>Starts @file (a path or a name on PATH) with @args; @package names what installs it.</summary>
    public static ServiceProcess Start(string name, string file, IReadOnlyList<string> args, string package)
    {
        if (!File.Exists(file) && Stargate.Testing.ProcessRunner.Which(file) is null)
        {
            throw new BenchException($"{name}: {file} is not installed (apt-get install {package})");
        }

        return new ServiceProcess(name, file, args);
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listens on now.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>True when something accepts TCP connections on 127.0.0.1:@port.</summary>
    public static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Waits up to @timeout for @ready (polled every 50 ms); fails at once if the server exits.</summary>
    public void WaitUntil(Func<bool> ready, string what, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (_process.HasExited)
            {
                throw new BenchException($"{Name} exited with {_process.ExitCode} before {what}:\n{Tail()}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new BenchException($"{Name}: not {what} after {timeout.TotalSeconds:0} s:\n{Tail()}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>The last lines of its output, for messages.</summary>
    public string Tail(int count = 20)
    {
        lock (_gate)
        {
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)));
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Stargate.Interop.Native.Libc.Kill(_process.Id, 15);
            if (!_process.WaitForExit(StopTimeout))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.WaitForExit();
        _process.StandardInput.Dispose();
        _process.Dispose();
        lock (_gate)
        {
            _log.Dispose();
        }
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
            _log.WriteLine(line);
        }
    }
}
