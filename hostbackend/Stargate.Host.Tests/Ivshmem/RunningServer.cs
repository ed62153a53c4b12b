using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Service;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>A real StargateService on a zone in /dev/shm, its loop on a thread of its own, stopped on Dispose.</summary>
internal sealed class RunningServer : IDisposable
{
    private readonly Thread _loop;
    private Exception? _failure;

    /// <param name="prepare">Runs on the opened zone before the server starts: the state a previous service left.</param>
    /// <param name="access">Who besides this user and root may connect (default: nobody else).</param>
    /// <param name="moreSockets">`--socket` options of further sockets (PATH[,ro][,root_squash], PATH a name in the zone's scratch folder).</param>
    public RunningServer(int vectors = 2, int maxPeers = 8, Action<Zone>? prepare = null, PeerAccess? access = null, params string[] moreSockets)
    {
        Zone = new TempZone();
        Socket = Zone.Scratch("sock");
        Opened = Zone.Open();
        prepare?.Invoke(Opened);
        Log = new ListLogger();
        var more = moreSockets.Select(text => Service.ExportSocket.Parse(text)).Select(s => s with { Path = Zone.Scratch(s.Path) }).ToList();
        Server = new StargateService(Opened, new ServiceOptions(Socket, Socket + ".ctl", vectors, maxPeers) { Access = access ?? PeerAccess.OwnerAndRoot, MoreSockets = more }, Log);
        _loop = new Thread(() =>
        {
            try
            {
                Server.Run();
            }
            catch (Exception e)
            {
                _failure = e;
            }
        }) { IsBackground = true, Name = "service loop" };
        _loop.Start();
    }

    public TempZone Zone { get; }

    public Zone Opened { get; }

    public string Socket { get; }

    public StargateService Server { get; }

    public ListLogger Log { get; }

    public void Dispose()
    {
        Server.Stop();
        Assert.True(_loop.Join(TimeSpan.FromSeconds(10)), "the server loop did not stop");
        Server.Dispose();
        Opened.Dispose();
        Zone.Dispose();
        Assert.Null(_failure);
    }
}

/// <summary>Keeps what the server logs, for tests that check what an operator is told.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }

    /// <summary>Waits until a line containing <paramref name="text"/> has been logged.</summary>
    public string WaitFor(string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (Lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            Thread.Sleep(10);
        }

        throw new TimeoutException($"nothing logged '{text}'; the log:\n{string.Join('\n', Lines)}");
    }
}
