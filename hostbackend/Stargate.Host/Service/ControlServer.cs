using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Service;

/// <summary>
/// The control socket: one request line, one reply line (JSON where it says so).
///
/// | request | reply | then |
/// | --- | --- | --- |
/// | `peers` | JSON array of PeerStatus | closed |
/// | `peers reset-worst` | the same, then every guest's worst reply time starts again | closed |
/// | `ring ID VECTOR` | `ok` or `error: ...` | closed |
/// | `run {"argv":[...],"cwd":"..."}` | JSON RunReply: exit code, stdout, stderr of the CLI command run on this zone | closed |
/// | `lock {"path":..,"shared":..,"wait":..,"pid":..}` | `ok` or `error: ...` (with wait: when granted) | granted: kept open; closing it unlocks |
/// | `map` | `ok` or `error: ...` | a mapping session (<see cref="MappingSessions"/>) until either end closes it |
///
/// A host lock (<see cref="HostLocks"/>) is a record of the zone's lock table, held as long
/// as its connection.
///
/// A client has ServerLimits.ControlDeadline to send its line. Every request is taken only from
/// a process the service's <see cref="PeerAccess"/> allows (SO_PEERCRED: its user, root, the
/// allow list), as on the ivshmem socket; anyone else gets `error: ...` and is logged once.
/// `run`, `lock` and `map` act with this service's rights (a forwarded `put` reads host files), so
/// they are taken only from the service's own user or root. Owns the listening socket and
/// every connection.
/// Not thread-safe: the service's loop thread calls it.
/// </summary>
internal sealed class ControlServer : IDisposable
{
    /// <summary>The one JSON style of `run` and `lock`.</summary>
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly Dictionary<int, ControlClient> _controls = [];
    private readonly string _path;
    private readonly int _listener;
    private readonly GuestSockets _ivshmem;
    private readonly ReplyLatency _latency;
    private readonly Func<IReadOnlyList<PeerStatus>> _peers;
    private readonly Func<RunRequest, RunReply>? _commands;
    private readonly HostLocks _locks;
    private readonly MappingSessions _mappings;
    private readonly PeerAccess _access;
    private readonly ILogger _log;

    /// <summary>Listens on <paramref name="path"/> (a stale socket file of ours is replaced; SocketFile refuses anything else).</summary>
    /// <param name="access">Who may send requests at all.</param>
    /// <param name="peers">The peer table as `peers` prints it.</param>
    /// <param name="commands">
    /// Runs a forwarded command line (argv, the client's working directory) on the loop thread
    /// against this service's zone; null: `run` is refused.
    /// </param>
    public ControlServer(string path, PeerAccess access, Zone zone, RequestServer requests, GuestSockets ivshmem, Func<IReadOnlyList<PeerStatus>> peers, Func<RunRequest, RunReply>? commands, ILogger log)
    {
        _listener = SocketFile.Listen(path, access.SocketMode);
        _path = path;
        _access = access;
        _log = log;
        _locks = new HostLocks(zone, requests, log);
        _mappings = new MappingSessions(zone, requests, log);
        _latency = requests.Latency;
        _ivshmem = ivshmem;
        _peers = peers;
        _commands = commands;
    }

    /// <summary>The fds the loop waits on for control: the listener and every connection.</summary>
    public void AddWatches(List<PollFd> fds)
    {
        fds.Add(new PollFd { Fd = _listener, Events = Libc.POLLIN });
        fds.AddRange(_controls.Keys.Select(fd => new PollFd { Fd = fd, Events = Libc.POLLIN }));
        _mappings.AddWatches(fds);
    }

    /// <summary>Handles a ready fd if it is one of control's; false if it is not.</summary>
    public bool Dispatch(int fd)
    {
        if (fd == _listener)
        {
            AcceptControls();
        }
        else if (_mappings.DispatchWake(fd))
        {
            // Turn sends what the changes touched.
        }
        else if (_mappings.Has(fd))
        {
            if (!_mappings.Ready(fd))
            {
                CloseControl(fd);
            }
        }
        else if (_controls.ContainsKey(fd))
        {
            ControlReadable(fd);
        }
        else
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Closes the connections without releasing their host locks one by one (the service drops
    /// every host lock when it stops), and removes the socket file.
    /// </summary>
    public void Dispose()
    {
        _mappings.Dispose();
        foreach (int fd in _controls.Keys)
        {
            Libc.Close(fd);
        }

        _controls.Clear();
        SocketFile.Close(_listener, _path);
    }

    /// <summary>
    /// Closes control clients that have not sent their request in time (they cannot hold
    /// slots), and asks again for the host locks that wait; the loop calls this once per turn.
    /// </summary>
    public void Turn()
    {
        var now = DateTime.UtcNow;
        foreach (var (socket, _) in _controls.Where(c => c.Value.Deadline <= now).ToList())
        {
            _controls.Remove(socket);
            Libc.Close(socket);
        }

        foreach (var (socket, client) in _controls.Where(c => c.Value.Waiting is not null).ToList())
        {
            if (_locks.Retry(client) is { } reply)
            {
                Reply(socket, reply);
                if (client.HeldBy is null)
                {
                    CloseControl(socket);
                }
            }
        }

        foreach (int socket in _mappings.Turn())
        {
            CloseControl(socket);
        }
    }

    /// <summary>How long the loop may wait for control's sake: until the next client's deadline, a waiting lock's retry, or -1 (no limit).</summary>
    public int MillisecondsToNextDeadline()
    {
        if (_controls.Count == 0)
        {
            return -1;
        }

        if (_controls.Values.Any(c => c.Waiting is not null))
        {
            return (int)ServerLimits.HostLockRetry.TotalMilliseconds;
        }

        var next = _controls.Values.Min(c => c.Deadline) - DateTime.UtcNow;
        return (int)Math.Clamp(Math.Ceiling(next.TotalMilliseconds), 0, int.MaxValue);
    }

    private void AcceptControls()
    {
        for (int socket = UnixSockets.Accept(_listener); socket >= 0; socket = UnixSockets.Accept(_listener))
        {
            if (_controls.Count - _mappings.Count >= ServerLimits.MaxControlConnections)
            {
                Libc.Close(socket);
                continue;
            }

            _controls[socket] = new ControlClient(DateTime.UtcNow + ServerLimits.ControlDeadline);
        }
    }

    private void ControlReadable(int socket)
    {
        var client = _controls[socket];
        if (client.Waiting is not null || client.HeldBy is not null)
        {
            LockClientReadable(socket, client);
            return;
        }

        byte[] chunk = new byte[4096];
        int n = UnixSockets.ReceiveNow(socket, chunk);
        if (n < 0)
        {
            return;
        }

        var buffer = client.Buffer;
        buffer.AddRange(chunk.AsSpan(0, n));
        int newline = buffer.IndexOf((byte)'\n');
        if (n > 0 && newline < 0 && buffer.Count < ServerLimits.MaxControlRequest)
        {
            return;
        }

        string request = Encoding.UTF8.GetString([.. buffer.Take(newline < 0 ? buffer.Count : newline)]).Trim();
        string? reply;
        try
        {
            reply = newline < 0 ? $"error: a request is one line of at most {ServerLimits.MaxControlRequest} bytes" : Answer(socket, client, request);
        }
        catch (Exception e) when (e is NativeException or IOException or ZoneException)
        {
            // A bad or vanished asker ends its own connection, never the service.
            reply = $"error: {e.Message}";
        }

        if (reply is not null)
        {
            Reply(socket, reply);
        }

        if (client.HeldBy is null && client.Waiting is null && !_mappings.Has(socket))
        {
            CloseControl(socket);
        }
    }

    private static void Reply(int socket, string reply)
    {
        try
        {
            byte[] bytes = Encoding.UTF8.GetBytes(reply + "\n");
            using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(socket, ownsHandle: false), FileAccess.Write, 1);
            stream.Write(bytes);
        }
        catch (IOException)
        {
            // The asker went away: nothing to tell.
        }
    }

    private void CloseControl(int socket)
    {
        _mappings.End(socket);
        if (_controls.Remove(socket, out var client) && client.HeldBy is ulong owner)
        {
            _locks.Release(owner);
        }

        Libc.Close(socket);
    }

    /// <summary>A lock client never sends after its request: end of file (or anything) ends the connection and its lock.</summary>
    private void LockClientReadable(int socket, ControlClient client)
    {
        Span<byte> probe = stackalloc byte[64];
        if (UnixSockets.ReceiveNow(socket, probe) >= 0)
        {
            client.Waiting = null;
            CloseControl(socket);
        }
    }

    /// <summary>The reply line, or null for a lock that waits (it is answered when granted).</summary>
    private string? Answer(int socket, ControlClient client, string request)
    {
        var peer = UnixSockets.PeerCredentials(socket);
        if (_access.Refusal(peer) is { } refusal)
        {
            IvshmemLog.Refused(_log, _path, peer.Pid, peer.Uid, refusal);
            return $"error: {refusal}";
        }

        string[] words = request.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        switch (words)
        {
            case ["peers"]:
                return JsonSerializer.Serialize(_peers(), PeerStatus.Json);
            case ["peers", "reset-worst"]:
                string listed = JsonSerializer.Serialize(_peers(), PeerStatus.Json);
                _latency.ResetWorst();
                return listed;
            case ["ring"]:
                return Ring(string.Empty);
            case ["ring", var rest]:
                return Ring(rest);
            case ["run", var json]:
                return Refused(PeerAccess.NotOwner(peer)) ?? Run(json);
            case ["lock", var json]:
                return Refused(PeerAccess.NotOwner(peer)) ?? _locks.Request(client, json);
            case ["map"]:
                client.Deadline = DateTime.MaxValue;
                return Refused(PeerAccess.NotOwner(peer)) ?? _mappings.Start(socket);
            default:
                return $"error: unknown request '{(request.Length > 40 ? request[..40] : request)}' (requests: peers [reset-worst]; ring ID VECTOR; run JSON; lock JSON; map)";
        }
    }

    private string Ring(string rest)
    {
        string[] words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words is not [var idText, var vectorText] || !int.TryParse(idText, out int id) || !int.TryParse(vectorText, out int vector))
        {
            return "error: ring takes a guest id and a vector (ring ID VECTOR)";
        }

        if (!_ivshmem.TryGetGuest(id, out var guest))
        {
            return $"error: no guest has id {id}";
        }

        if (vector < 0 || vector >= guest.Eventfds.Length)
        {
            return $"error: vector {vector} is outside 0..{guest.Eventfds.Length - 1}";
        }

        _ivshmem.Ring(guest, vector);
        return "ok";
    }

    private static string? Refused(string? why) => why is null ? null : $"error: {why}";

    private string Run(string json)
    {
        if (_commands is null)
        {
            return "error: this service does not run commands";
        }

        RunRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<RunRequest>(json, Json);
        }
        catch (JsonException e)
        {
            return $"error: not a run request: {e.Message}";
        }

        if (request?.Argv is not { Length: > 0 } || string.IsNullOrEmpty(request.Cwd) || !System.IO.Path.IsPathRooted(request.Cwd) || request.Argv.Any(a => a is null))
        {
            return "error: a run request needs argv (at least the command) and an absolute cwd";
        }

        return JsonSerializer.Serialize(_commands(request), Json);
    }
}
