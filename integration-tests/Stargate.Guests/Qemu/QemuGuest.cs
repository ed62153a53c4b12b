using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Stargate.Guests.Checkout;
using Stargate.Guests.Boot;
using Stargate.Guests.Kernels;
using Stargate.Interop.Native;

namespace Stargate.Guests.Qemu;

/// <summary>
/// One QEMU guest, owned by one test: a Debian kernel and the test initramfs (Boot/init.sh),
/// 1 vCPU, the serial console on QEMU's stdout. The console is kept in memory, written as it
/// comes to artifacts/guest-logs/CLASS.TEST-N.log, and its tail is put in every failure.
/// <para>
/// A test talks to the guest through console lines: <see cref="WaitFor"/> waits for a
/// "STARGATE: KEY=VALUE" line; <see cref="Exec"/> sends a shell command over the second
/// serial port (ttyS1, a unix socket on the host) and returns what it printed. Every wait has
/// a hard timeout. Dispose kills QEMU, waits for it, and removes its socket and files.
/// </para>
/// </summary>
public sealed partial class QemuGuest : IDisposable
{
    private const string WorkPrefix = "stargate-it-";
    private const int TailLines = 60;
    private const string KernelCommandLine = "console=ttyS0 panic=-1 oops=panic panic_on_warn=1 quiet";

    private static readonly ConcurrentDictionary<string, int> GuestsPerTest = new();

    // Printed by /init itself, also after a script failed: a failure does not cut waits for them short.
    private static readonly HashSet<string> InitMarkers = ["boot", "devices", "dev", "script", "ready", "done", "fail"];
    private static int _guestsStarted;

    private readonly GuestOptions _options;
    private readonly Action<string>? _progress; // the caller's log: a line at start and when ready
    private readonly Process _process;
    private readonly Thread _stdoutReader;
    private readonly Thread _stderrReader;
    private readonly StreamWriter _log;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    // Guards everything below it; waiters sleep on it with Monitor.Wait, new lines pulse it.
    private readonly object _gate = new();
    private readonly List<string> _lines = [];
    private readonly Dictionary<string, int> _markerCursors = [];
    private Socket? _commands;
    private int _nextCommandId;
    private bool _ready;
    private bool _exited;
    private bool _disposed;
    private bool _logClosed;

    static QemuGuest()
    {
        RemoveStaleGuests();
    }

    private QemuGuest(GuestEnvironment environment, GuestOptions options, string name, Action<string>? log)
    {
        _options = options;
        _progress = log;
        Name = name;
        WorkDirectory = Path.Combine(Path.GetTempPath(), $"{WorkPrefix}{Environment.ProcessId}-{Interlocked.Increment(ref _guestsStarted)}");
        Directory.CreateDirectory(WorkDirectory);
        LogPath = TestLogs.PathFor(name);

        string initrd = Path.Combine(WorkDirectory, "initrd.gz");
        string kernel = options.KernelRelease is null ? environment.Kernel : GuestKernel.ImagePath(options.KernelRelease);
        if (!File.Exists(kernel))
        {
            throw new GuestException($"{name}: no kernel {kernel} (apt-get install linux-image-{options.KernelRelease})");
        }

        var kernelModules = options.KernelModules.Count == 0 ? null
            : Kernels.KernelModules.Resolve(options.KernelRelease ?? GuestKernel.ReleaseOf(kernel), options.KernelModules);
        Initramfs.WriteForGuest(initrd, options.Script, options.Module, kernelModules);


        var append = new StringBuilder(KernelCommandLine);
        if (options.Script is not null)
        {
            append.Append(" stargate.script=").Append(Initramfs.ScriptPath);
        }

        if (options.Interactive)
        {
            append.Append(" stargate.interactive=1");
        }

        // -nodefaults: no NIC (no iPXE ROM to run), no VGA, no default monitor or serial;
        // ttyS0 is stdout, ttyS1 the command socket (QEMU listens; wait=off boots at once).
        List<string> args =
        [
            .. environment.Accelerator,
            "-m", options.Memory, "-smp", "1",
            "-nographic", "-nodefaults", "-no-reboot",
            "-serial", "stdio",
        ];
        if (options.Interactive)
        {
            args.AddRange(["-chardev", $"socket,id=cmd,path={QemuDevices.Value(CommandSocketPath)},server=on,wait=off", "-serial", "chardev:cmd"]);
        }

        args.AddRange([
            "-kernel", kernel,
            "-initrd", initrd,
            "-append", append.ToString(),
            "-pidfile", Path.Combine(WorkDirectory, "qemu.pid"),
        ]);
        args.AddRange(options.Devices);

        var info = new ProcessStartInfo(environment.Qemu)
        {
            RedirectStandardInput = true, // kept open and empty: the console is output only
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        CommandLine = environment.Qemu + " " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
        _log = new StreamWriter(LogPath, append: false, new UTF8Encoding(false)) { AutoFlush = true };
        _log.WriteLine($"# {CommandLine}");
        _process = Process.Start(info) ?? throw new GuestException($"{name}: could not start {environment.Qemu}");
        _stdoutReader = new Thread(ReadConsole) { IsBackground = true, Name = $"{name} console" };
        _stderrReader = new Thread(ReadStderr) { IsBackground = true, Name = $"{name} stderr" };
        _stdoutReader.Start();
        _stderrReader.Start();
        _progress?.Invoke($"{name}: started QEMU pid {_process.Id}; console log {LogPath}");
    }

    /// <summary>This guest's name in logs and messages: CLASS.TEST-N, or CLASS.TEST.RELEASE-N for a chosen kernel.</summary>
    public string Name { get; }

    /// <summary>The console log file (artifacts/guest-logs).</summary>
    public string LogPath { get; }

    /// <summary>The QEMU command, for messages.</summary>
    public string CommandLine { get; }

    /// <summary>QEMU's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>From QEMU's start to init's first line ("STARGATE: boot"); null before it.</summary>
    public TimeSpan? BootTime { get; private set; }

    /// <summary>The guest's private folder (initrd, command socket, pid file); removed on Dispose.</summary>
    public string WorkDirectory { get; }

    /// <summary>The unix socket connected to the guest's ttyS1 (interactive guests).</summary>
    public string CommandSocketPath => Path.Combine(WorkDirectory, "cmd.sock");

    /// <summary>True once QEMU has exited and its output has been read.</summary>
    public bool HasExited
    {
        get
        {
            lock (_gate)
            {
                return _exited;
            }
        }
    }

    /// <summary>Console lines so far: a mark for <see cref="WaitForConsole"/>'s fromLine.</summary>
    public int ConsoleLineCount
    {
        get
        {
            lock (_gate)
            {
                return _lines.Count;
            }
        }
    }

    /// <summary>
    /// Boots a guest; @log gets a line when QEMU starts and when the guest takes commands. A
    /// machine that lacks QEMU, a kernel or busybox-static is a <see cref="GuestException"/>
    /// naming what is missing (a test checks <see cref="GuestEnvironment.Find"/> first and
    /// skips). @test and @testFile name the log (CLASS.TEST-N); leave them to the compiler.
    /// </summary>
    public static QemuGuest Start(GuestOptions options, Action<string>? log = null,
        [CallerMemberName] string test = "", [CallerFilePath] string testFile = "")
    {
        var environment = GuestEnvironment.Require();
        string baseName = $"{Path.GetFileNameWithoutExtension(testFile)}.{test}{(options.KernelRelease is null ? string.Empty : "." + options.KernelRelease)}";
        int n = GuestsPerTest.AddOrUpdate(baseName, 1, (_, count) => count + 1);
        return new QemuGuest(environment, options, $"{baseName}-{n}", log);
    }

    /// <summary>
    /// Waits for the next console line "STARGATE: MARKER" or "STARGATE: MARKER=VALUE" and returns
    /// VALUE ("" without one); waiting for the same marker again finds the next such line. Fails
    /// after the timeout, at once if QEMU exits, and, for a marker of the test's script, at once
    /// if the script reports "fail=..." (init's own markers, script= and done, still come).
    /// </summary>
    public string WaitFor(string marker, TimeSpan? timeout = null)
    {
        string prefix = "STARGATE: " + marker;
        return Wait($"'STARGATE: {marker}'", timeout, lines =>
        {
            int start = _markerCursors.GetValueOrDefault(marker);
            for (int i = start; i < lines.Count; i++)
            {
                int at = lines[i].IndexOf(prefix, StringComparison.Ordinal);
                if (at < 0)
                {
                    continue;
                }

                string rest = lines[i][(at + prefix.Length)..];
                if (rest.Length == 0 || rest[0] == '=')
                {
                    _markerCursors[marker] = i + 1;
                    return (true, rest.Length == 0 ? string.Empty : rest[1..].Trim());
                }
            }

            if (!InitMarkers.Contains(marker) && FirstFailure(lines, start) is { } failure)
            {
                throw Failure($"waiting for 'STARGATE: {marker}', the guest reported {failure}");
            }

            return (false, string.Empty);
        });
    }

    /// <summary>Waits for a console line containing @text at or after line @fromLine; returns the line.</summary>
    public string WaitForConsole(string text, int fromLine = 0, TimeSpan? timeout = null) =>
        WaitForConsole($"containing '{text}'", l => l.Contains(text, StringComparison.Ordinal), fromLine, timeout);

    /// <summary>Waits for a console line that @pattern matches at or after line @fromLine; returns the line.</summary>
    public string WaitForConsole(Regex pattern, int fromLine = 0, TimeSpan? timeout = null) =>
        WaitForConsole($"matching /{pattern}/", pattern.IsMatch, fromLine, timeout);

    /// <summary>The console lines from @fromLine on that contain @text (no waiting).</summary>
    public IReadOnlyList<string> ConsoleLines(string text, int fromLine = 0) =>
        ConsoleLines(l => l.Contains(text, StringComparison.Ordinal), fromLine);

    /// <summary>The console lines from @fromLine on that @pattern matches (no waiting).</summary>
    public IReadOnlyList<string> ConsoleLines(Regex pattern, int fromLine = 0) => ConsoleLines(pattern.IsMatch, fromLine);

    private string WaitForConsole(string what, Func<string, bool> match, int fromLine, TimeSpan? timeout) =>
        Wait($"a console line {what} (from line {fromLine})", timeout, lines =>
        {
            for (int i = fromLine; i < lines.Count; i++)
            {
                if (match(lines[i]))
                {
                    return (true, lines[i]);
                }
            }

            return (false, string.Empty);
        });

    private List<string> ConsoleLines(Func<string, bool> match, int fromLine)
    {
        lock (_gate)
        {
            return _lines.Skip(fromLine).Where(match).ToList();
        }
    }

    /// <summary>Runs @command in the guest's shell (interactive guests); a non-zero exit is a failure.</summary>
    public GuestReply Exec(string command, TimeSpan? timeout = null)
    {
        var reply = TryExec(command, timeout);
        if (reply.ExitCode != 0)
        {
            throw Failure($"guest command {reply}");
        }

        return reply;
    }

    /// <summary>
    /// Runs @command in the guest's shell, after waiting for "STARGATE: ready"; returns its
    /// output lines and exit status whatever they are. $SG_DEV is the first ivshmem device.
    /// Variables set by one command stay set for the next.
    /// </summary>
    public GuestReply TryExec(string command, TimeSpan? timeout = null)
    {
        if (!_options.Interactive)
        {
            throw new InvalidOperationException($"{Name} is not interactive: boot it with GuestOptions.Interactive = true");
        }

        if (command.Contains('\n', StringComparison.Ordinal) || command.Contains('\r', StringComparison.Ordinal))
        {
            throw new ArgumentException("a guest command is one line", nameof(command));
        }

        EnsureReady();
        int id = Interlocked.Increment(ref _nextCommandId);
        Send($"{id.ToString(CultureInfo.InvariantCulture)} {command}\n");
        string outputPrefix = $"STARGATE[{id.ToString(CultureInfo.InvariantCulture)}]: ";
        string endPrefix = $"STARGATE[{id.ToString(CultureInfo.InvariantCulture)}] rc=";
        return Wait($"the end of guest command {id} '{command}'", timeout, lines =>
        {
            for (int i = lines.Count - 1; i >= 0; i--)
            {
                int end = lines[i].IndexOf(endPrefix, StringComparison.Ordinal);
                if (end < 0)
                {
                    continue;
                }

                int rc = int.Parse(lines[i][(end + endPrefix.Length)..].Trim(), CultureInfo.InvariantCulture);
                var output = lines.Take(i)
                    .Select(l => (Line: l, At: l.IndexOf(outputPrefix, StringComparison.Ordinal)))
                    .Where(x => x.At >= 0)
                    .Select(x => x.Line[(x.At + outputPrefix.Length)..])
                    .ToList();
                return (true, new GuestReply(command, rc, output));
            }

            return (false, null!);
        });
    }

    /// <summary>Ends the command loop, waits for "STARGATE: done" and for QEMU to exit; returns its exit code.</summary>
    public int Shutdown(TimeSpan? timeout = null)
    {
        if (_options.Interactive)
        {
            EnsureReady();
            Send("0 exit\n");
        }

        WaitFor("done", timeout);
        return WaitForExit(timeout);
    }

    /// <summary>Waits for QEMU to exit by itself (after "done", or a panic with -no-reboot); returns its exit code.</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        Wait("QEMU to exit", timeout, _ => (_exited, true), failOnExit: false);
        return _process.ExitCode;
    }

    /// <summary>SIGKILLs QEMU, as a crash would, and waits until it is gone; Dispose still cleans up.</summary>
    public void KillHard()
    {
        if (Libc.Kill(_process.Id, Libc.SIGKILL) != 0 && !_process.HasExited)
        {
            throw new GuestException($"{Name}: kill -9 {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        WaitForExit(TimeSpan.FromSeconds(30));
        Log($"# killed with SIGKILL at {_clock.Elapsed.TotalSeconds:0.00} s");
    }

    /// <summary>The last @count console lines, for messages.</summary>
    public string ConsoleTail(int count = TailLines)
    {
        lock (_gate)
        {
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)));
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _commands?.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                Log($"# Dispose: killing QEMU at {_clock.Elapsed.TotalSeconds:0.00} s");
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(30_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _stdoutReader.Join(TimeSpan.FromSeconds(10));
        _stderrReader.Join(TimeSpan.FromSeconds(10));
        lock (_gate)
        {
            _log.WriteLine($"# disposed at {_clock.Elapsed.TotalSeconds:0.00} s");
            _log.Dispose();
            _logClosed = true;
        }

        _process.Dispose();
        Directory.Delete(WorkDirectory, recursive: true);
    }

    private void EnsureReady()
    {
        if (_ready)
        {
            return;
        }

        WaitFor("ready");
        _ready = true;
        _progress?.Invoke($"{Name}: ready after {_clock.Elapsed.TotalSeconds:0.0} s (init started at {BootTime?.TotalSeconds:0.0} s)");
    }

    private void Send(string text)
    {
        if (_commands is null)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(CommandSocketPath));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw Failure($"connecting to the guest's command socket {CommandSocketPath}: {e.Message}");
            }

            _commands = socket;
        }

        Log($"# host> {text.TrimEnd('\n')}");
        _commands.Send(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Waits until @probe, run under the lock on every new line, finds what it looks for.</summary>
    private T Wait<T>(string what, TimeSpan? timeout, Func<List<string>, (bool Found, T Value)> probe, bool failOnExit = true)
    {
        var limit = timeout ?? _options.Timeout;
        var deadline = _clock.Elapsed + limit;
        lock (_gate)
        {
            while (true)
            {
                var (found, value) = probe(_lines);
                if (found)
                {
                    return value;
                }

                if (_exited && failOnExit)
                {
                    throw Failure($"waiting for {what}, QEMU exited with code {_process.ExitCode}");
                }

                var left = deadline - _clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    throw Failure($"waited {limit.TotalSeconds:0} s for {what} in vain");
                }

                Monitor.Wait(_gate, left);
            }
        }
    }

    private static string? FirstFailure(List<string> lines, int start)
    {
        for (int i = start; i < lines.Count; i++)
        {
            int at = lines[i].IndexOf("STARGATE: fail=", StringComparison.Ordinal);
            if (at >= 0)
            {
                return lines[i][(at + "STARGATE: ".Length)..];
            }
        }

        return null;
    }

    /// <summary>A failure about this guest: @what, its console log's path and last lines.</summary>
    public GuestException Failure(string what) =>
        new($"{Name}: {what}\nconsole log: {LogPath}\n--- last console lines ---\n{ConsoleTail()}\n---");

    private void ReadConsole()
    {
        var stream = _process.StandardOutput.BaseStream;
        var line = new StringBuilder();
        var buffer = new byte[4096];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            for (int i = 0; i < n; i++)
            {
                char c = (char)buffer[i]; // Latin-1: any byte is a char, nothing can fail to decode
                if (c == '\n')
                {
                    AddLine(line.ToString());
                    line.Clear();
                }
                else if (c != '\r')
                {
                    line.Append(c);
                }
            }
        }

        if (line.Length > 0)
        {
            AddLine(line.ToString());
        }

        _process.WaitForExit();
        lock (_gate)
        {
            _exited = true;
            WriteLog($"# QEMU exited with code {_process.ExitCode} at {_clock.Elapsed.TotalSeconds:0.00} s");
            Monitor.PulseAll(_gate);
        }
    }

    private void ReadStderr()
    {
        while (_process.StandardError.ReadLine() is { } line)
        {
            AddLine("[qemu stderr] " + line);
        }
    }

    private void AddLine(string raw)
    {
        // SeaBIOS and the kernel clear the screen with escape sequences; they only clutter logs.
        string line = TerminalEscapes().Replace(raw, string.Empty);
        lock (_gate)
        {
            if (BootTime is null && line.Contains("STARGATE: boot", StringComparison.Ordinal))
            {
                BootTime = _clock.Elapsed;
            }

            _lines.Add(line);
            WriteLog(line);

            Monitor.PulseAll(_gate);
        }
    }

    private void Log(string line)
    {
        lock (_gate)
        {
            WriteLog(line);
        }
    }

    /// <summary>Appends to the log file unless Dispose closed it; the caller holds _gate.</summary>
    private void WriteLog(string line)
    {
        if (!_logClosed)
        {
            _log.WriteLine(line);
        }
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|c)")]
    private static partial Regex TerminalEscapes();

    /// <summary>
    /// Kills the QEMUs of test runs that died before their Dispose (found by the pid file in
    /// their work folder, and only if that process is still a QEMU started for that folder),
    /// and removes those folders.
    /// </summary>
    private static void RemoveStaleGuests()
    {
        foreach (string dir in Directory.EnumerateDirectories(Path.GetTempPath(), WorkPrefix + "*"))
        {
            string[] parts = Path.GetFileName(dir)[WorkPrefix.Length..].Split('-');
            if (!int.TryParse(parts[0], CultureInfo.InvariantCulture, out int owner) || owner == Environment.ProcessId || Directory.Exists($"/proc/{owner}"))
            {
                continue;
            }

            string pidFile = Path.Combine(dir, "qemu.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out int qemu))
            {
                string cmdline = File.Exists($"/proc/{qemu}/cmdline") ? File.ReadAllText($"/proc/{qemu}/cmdline") : string.Empty;
                if (cmdline.Contains(dir, StringComparison.Ordinal))
                {
                    Libc.Kill(qemu, Libc.SIGKILL);
                }
            }

            Directory.Delete(dir, recursive: true);
        }
    }
}
