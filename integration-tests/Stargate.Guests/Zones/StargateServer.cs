using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Stargate.Guests.Checkout;
using Stargate.Interop.Native;

namespace Stargate.Guests.Zones;

/// <summary>
/// A running `stargate serve ZONE --socket PATH --vectors N` owned by one test. Start returns
/// once the service prints "stargate: serving ZONE on PATH" (QEMU must find it listening).
/// Its stderr is kept, written to artifacts/guest-logs/CLASS.TEST-serve.log, and put in
/// failures. Dispose stops it with SIGTERM (SIGKILL if it lingers) and removes its folder.
/// </summary>
public sealed class StargateServer : IDisposable
{
    private const int Sigterm = 15;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static int _started;

    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _stderr = [];
    private readonly StreamWriter _log;
    private readonly string _directory;
    private bool _logClosed;

    private StargateServer(string zonePath, int vectors, string name, bool readOnlySocket, bool verbose, IReadOnlyList<string> options)
    {
        ZonePath = zonePath;
        Vectors = vectors;
        _directory = Path.Combine(Path.GetTempPath(), $"stargate-serve-{Environment.ProcessId}-{Interlocked.Increment(ref _started)}");
        Directory.CreateDirectory(_directory);
        SocketPath = Path.Combine(_directory, "ivshmem.sock");
        ReadOnlySocketPath = readOnlySocket ? Path.Combine(_directory, "ivshmem-ro.sock") : null;
        _log = new StreamWriter(TestLogs.PathFor(name + "-serve")) { AutoFlush = true };

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] readOnly = ReadOnlySocketPath is null ? [] : ["--socket", ReadOnlySocketPath + ",ro"];
        foreach (string arg in (string[])[RepoPaths.StargateDll, "serve", zonePath, "--socket", SocketPath, .. readOnly, "--vectors", vectors.ToString(CultureInfo.InvariantCulture), .. (verbose ? (string[])["--verbose"] : []), .. options])
        {
            info.ArgumentList.Add(arg);
        }

        _log.WriteLine($"# dotnet {string.Join(' ', info.ArgumentList)}");
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start stargate serve");
        _process.StandardInput.Close();
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.OutputDataReceived += (_, e) => Add(e.Data is null ? null : "[stdout] " + e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    /// <summary>The zone the service serves (its structure file: QEMU maps it read-only itself).</summary>
    public string ZonePath { get; }

    /// <summary>The ivshmem server socket (QEMU's -chardev socket,path=).</summary>
    public string SocketPath { get; }

    /// <summary>A second ivshmem socket, read-only (`--socket PATH,ro`): its guests change nothing; null unless asked for.</summary>
    public string? ReadOnlySocketPath { get; }

    /// <summary>Interrupt vectors per peer (QEMU's ivshmem-doorbell vectors= must match).</summary>
    public int Vectors { get; }

    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts the service on @zonePath (with a second, read-only socket when @readOnlySocket; logging every doorbell
    /// when @verbose; @options are more of serve's options) and waits until it listens.
    /// </summary>
    public static StargateServer Start(string zonePath, int vectors = 2, bool readOnlySocket = false, bool verbose = true, IReadOnlyList<string>? options = null,
        [CallerMemberName] string test = "", [CallerFilePath] string testFile = "")
    {
        var server = new StargateServer(zonePath, vectors, $"{Path.GetFileNameWithoutExtension(testFile)}.{test}", readOnlySocket, verbose, options ?? []);
        try
        {
            server.WaitForStderr("stargate: serving ", StartTimeout);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Waits for a stderr line containing @text; returns it.</summary>
    public string WaitForStderr(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        lock (_gate)
        {
            while (true)
            {
                if (_stderr.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
                {
                    return line;
                }

                if (_process.HasExited)
                {
                    // The exit may come before the last lines are read: give them a moment.
                    Monitor.Wait(_gate, 200);
                    if (_stderr.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } last)
                    {
                        return last;
                    }

                    throw new InvalidOperationException($"stargate serve exited with {_process.ExitCode} before printing '{text}':\n{Stderr}");
                }

                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"stargate serve did not print '{text}' in time:\n{Stderr}");
                }

                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Min(left.TotalMilliseconds, 500)));
            }
        }
    }

    /// <summary>What the service has printed on stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>`stargate peers --json`: the host (id 0) and every connected guest; then, with @resetWorst, their worst reply times start again.</summary>
    public IReadOnlyList<Peer> Peers(bool resetWorst = false)
    {
        var result = resetWorst
            ? StargateCli.Run("peers", "--socket", SocketPath, "--json", "--reset-worst")
            : StargateCli.Run("peers", "--socket", SocketPath, "--json");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{result}\nservice stderr:\n{Stderr}");
        }

        return JsonSerializer.Deserialize<Peer[]>(result.Stdout, Json)
            ?? throw new InvalidOperationException($"stargate peers --json printed no array: {result.Stdout}");
    }

    /// <summary>Polls <see cref="Peers"/> until @condition holds; returns that list, or throws with the last one.</summary>
    public IReadOnlyList<Peer> WaitForPeers(Func<IReadOnlyList<Peer>, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var peers = Peers();
            if (condition(peers))
            {
                return peers;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"peers never showed {what}; last: {JsonSerializer.Serialize(peers, Json)}\nservice stderr:\n{Stderr}");
            }

            Thread.Sleep(250);
        }
    }

    /// <summary>`stargate ring --peer ID --vector V`: the host rings a guest's doorbell.</summary>
    public void Ring(int peer, int vector)
    {
        var result = StargateCli.Run("ring", "--socket", SocketPath, "--peer", peer.ToString(CultureInfo.InvariantCulture), "--vector", vector.ToString(CultureInfo.InvariantCulture));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{result}\nservice stderr:\n{Stderr}");
        }
    }

    /// <summary>SIGTERM, then waits for a clean exit; returns the exit code (SIGKILL and throw if it hangs).</summary>
    public int Stop()
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Sigterm);
            if (!_process.WaitForExit(StopTimeout))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
                throw new TimeoutException($"stargate serve ignored SIGTERM for {StopTimeout.TotalSeconds:0} s:\n{Stderr}");
            }
        }

        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    /// <summary>SIGKILL, as a crash would (no clean-up of its own); waits until it is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (TimeoutException)
        {
            // Killed; the test that cares calls Stop itself and sees the exception.
        }

        _process.Dispose();
        lock (_gate)
        {
            _log.Dispose();
            _logClosed = true;
        }

        Directory.Delete(_directory, recursive: true);
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _stderr.Add(line);
            if (!_logClosed)
            {
                _log.WriteLine(line);
            }

            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>One entry of `stargate peers --json`; for the host (id 0) Doorbells counts the doorbells guests rang at it, per vector.</summary>
    public sealed record Peer(int Id, string Kind, int Pid, DateTimeOffset Since, int Vectors, ulong[] Doorbells)
    {
        /// <summary>The service's worst time from seeing one of this guest's requests to its reply, in microseconds (null before one).</summary>
        public long? WorstReplyUs { get; init; }

        /// <summary>The grace period's epoch: the last posted (host row), the last acknowledged (guest rows; null when not tracked).</summary>
        public ulong? GraceEpoch { get; init; }

        /// <summary>The guest's answered requests and the service's total time in each step (null before one).</summary>
        public RequestCost? Cost { get; init; }
    }

    /// <summary>A guest's answered requests and the service's total nanoseconds in each step of them (`stargate peers --json`).</summary>
    public sealed record RequestCost(long Requests, long PickupNs, long ChangeNs, long ReplyNs);
}
