using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Stargate.Host.Cli;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Service;

/// <summary>
/// serve's side of <see cref="ZoneFileMapping"/> for host processes that are not the writer:
/// a control connection that sent `map` becomes a mapping session, which numbers the files
/// its process maps and keeps them in step with the zone. Lines the client sends:
///
/// | line | answer |
/// | --- | --- |
/// | `open INO GEN` | `= H LAYOUT`: H numbers the mapping in this session |
/// | `allocate H OFFSET LENGTH` | `= H LAYOUT` (the holes in the range filled) |
/// | `grow H SIZE` | `= H LAYOUT` (the file that long, every new byte allocated) |
/// | `close H` | `= H` |
/// | `ack EPOCH` | none |
///
/// A refused line is answered `! ERROR MESSAGE` (ERROR a ZoneError name). LAYOUT is
/// <see cref="FileLayout"/>'s text. serve also sends, in order with the answers,
/// `layout H LAYOUT` after each change of a mapped file's pages (by a guest, the host mount,
/// a CLI command, another session), then `epoch N` once every layout of the changes before
/// grace epoch N has been sent. The session counts in the grace period as a guest does:
/// pages freed under epoch N stay out of use until it sends `ack N`, or its connection ends
/// (a process that exits maps nothing). A client that sends garbage, acknowledges an epoch
/// it was not told, or lets more than <see cref="MaxQueued"/> bytes pile up unread loses its
/// session. serve never waits on a client: lines are sent without blocking, and the rest
/// when the socket has room.
/// Not thread-safe: the service's loop thread calls it, but for <see cref="Touched"/>.
/// </summary>
internal sealed class MappingSessions : IDisposable
{
    /// <summary>Bytes queued for a client that does not read before its session ends.</summary>
    public const int MaxQueued = 64 << 20;

    /// <summary>Files one session may map at once.</summary>
    public const int MaxFiles = 4096;

    /// <summary>The longest line a client may send.</summary>
    private const int MaxLine = 256;

    private readonly Dictionary<int, Session> _sessions = [];
    private readonly Zone _zone;
    private readonly RequestServer _requests;
    private readonly ILogger _log;
    private readonly Lock _touchedGate = new();
    private readonly HashSet<ulong> _touched = [];
    private readonly int _wake;
    private ulong _lastSession;

    public MappingSessions(Zone zone, RequestServer requests, ILogger log)
    {
        _zone = zone;
        _requests = requests;
        _log = log;
        _wake = UnixSockets.NewEventfd();
        using (zone.Exclusive())
        {
            zone.Mappings.Observer = Touched;
        }
    }

    public bool Has(int socket) => _sessions.ContainsKey(socket);

    /// <summary>Sessions open now (they do not count against the control connections' limit).</summary>
    public int Count => _sessions.Count;

    /// <summary>The fds to wait on: the wake-up of <see cref="Touched"/>, and each session's socket (for room, when it has lines queued).</summary>
    public void AddWatches(List<PollFd> fds)
    {
        fds.Add(new PollFd { Fd = _wake, Events = Libc.POLLIN });
        foreach (var (socket, session) in _sessions.Where(s => s.Value.Queued > 0))
        {
            fds.Add(new PollFd { Fd = socket, Events = Libc.POLLOUT });
        }
    }

    /// <summary>The wake-up fd: drained here (the loop's turn then sends what changed); false if <paramref name="fd"/> is not it.</summary>
    public bool DispatchWake(int fd)
    {
        if (fd != _wake)
        {
            return false;
        }

        UnixSockets.Drain(_wake);
        return true;
    }

    /// <summary>`map`: the connection becomes a session (refused while the invalidation log is unsound: nothing could keep freed pages for it).</summary>
    public string Start(int socket)
    {
        using (_zone.Exclusive())
        {
            if (!_zone.Grace.Enabled)
            {
                return "error: the zone's invalidation log is unsound (run stargate zone fsck): serve cannot keep freed pages for a mapping";
            }

            if (_sessions.Count >= ServerLimits.MaxMappingSessions)
            {
                return $"error: serve has {ServerLimits.MaxMappingSessions} mapping sessions open, the most it takes";
            }

            var session = new Session(++_lastSession, _zone.Grace.PostedEpoch);
            _zone.Grace.AddHostMapper(session.Id);
            _sessions[socket] = session;
            return "ok";
        }
    }

    /// <summary>The session's socket is readable or writable: sends what waits, takes every whole line. False when the session is over (the caller closes the socket after <see cref="End"/>).</summary>
    public bool Ready(int socket)
    {
        var session = _sessions[socket];
        if (!session.Flush(socket))
        {
            return false;
        }

        byte[] chunk = new byte[16384];
        int n = UnixSockets.ReceiveNow(socket, chunk);
        if (n == 0)
        {
            return false;
        }

        if (n > 0)
        {
            session.Input.AddRange(chunk.AsSpan(0, n));
            for (int newline = session.Input.IndexOf((byte)'\n'); newline >= 0; newline = session.Input.IndexOf((byte)'\n'))
            {
                string line = Encoding.UTF8.GetString([.. session.Input.Take(newline)]);
                session.Input.RemoveRange(0, newline + 1);
                if (!Take(session, line))
                {
                    return false;
                }
            }

            if (session.Input.Count > MaxLine)
            {
                return false;
            }
        }

        return session.Flush(socket) && session.Queued <= MaxQueued;
    }

    /// <summary>
    /// Once per loop turn: for each file a change touched since, its new layout to every
    /// session that maps it, then the posted epoch to each session not yet told it, all read
    /// under the zone's lock (so every change up to that epoch has already told
    /// <see cref="Touched"/>). Returns the sockets whose sessions are over.
    /// </summary>
    public List<int> Turn()
    {
        var over = new List<int>();
        if (_sessions.Count == 0)
        {
            return over;
        }

        using (_zone.Exclusive())
        {
            ulong posted = _zone.Grace.PostedEpoch;
            ulong[] touched;
            lock (_touchedGate)
            {
                touched = [.. _touched];
                _touched.Clear();
            }

            foreach (var session in _sessions.Values)
            {
                foreach (var (handle, file) in session.Files.Where(f => touched.Contains(f.Value.Ino)))
                {
                    session.Queue($"layout {handle} {FileLayout.Of(_zone, file).Format()}");
                }

                if (posted > session.ToldEpoch)
                {
                    session.Queue($"epoch {posted}");
                    session.ToldEpoch = posted;
                }
            }
        }

        foreach (var (socket, session) in _sessions)
        {
            if (!session.Flush(socket) || session.Queued > MaxQueued)
            {
                over.Add(socket);
            }
        }

        return over;
    }

    /// <summary>The session on <paramref name="socket"/> is over: its files are no longer watched and it holds no pages.</summary>
    public void End(int socket)
    {
        if (!_sessions.Remove(socket, out var session))
        {
            return;
        }

        using (_zone.Exclusive())
        {
            foreach (var file in session.Files.Values)
            {
                _zone.Mappings.Unobserve(file.Ino);
            }

            _zone.Grace.RemoveHostMapper(session.Id);
            _requests.TendGracePeriod();
        }

        ServiceLog.MappingSessionEnded(_log, session.Id, session.Files.Count, session.Queued > MaxQueued ? " (it let too much go unread)" : string.Empty);
    }

    /// <summary>Ends every session (the sockets are the control server's to close).</summary>
    public void Dispose()
    {
        foreach (int socket in _sessions.Keys.ToList())
        {
            End(socket);
        }

        using (_zone.Exclusive())
        {
            _zone.Mappings.Observer = null;
        }

        Libc.Close(_wake);
    }

    /// <summary>ZoneFileMappings.Observer: a change of an observed file's pages committed (any thread, zone lock held).</summary>
    private void Touched(ulong ino)
    {
        lock (_touchedGate)
        {
            _touched.Add(ino);
        }

        UnixSockets.Signal(_wake);
    }

    /// <summary>One line from the client; false ends the session.</summary>
    private bool Take(Session session, string line)
    {
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            using (_zone.Exclusive())
            {
                switch (words)
                {
                    case ["open", var ino, var generation]:
                        Open(session, new NodeRef(Number(ino), Generation(generation)));
                        return true;
                    case ["allocate", var handle, var offset, var length]:
                        Allocate(session, Handle(handle), Number(offset), Number(length));
                        return true;
                    case ["grow", var handle, var size]:
                        Grow(session, Handle(handle), Number(size));
                        return true;
                    case ["close", var handle]:
                        int h = Handle(handle);
                        _zone.Mappings.Unobserve(session.File(h).Ino);
                        session.Files.Remove(h);
                        session.Queue($"= {h}");
                        return true;
                    case ["ack", var epoch]:
                        if (Number(epoch) > session.ToldEpoch || !_zone.Grace.AckHostMapper(session.Id, Number(epoch)))
                        {
                            return false;
                        }

                        _requests.TendGracePeriod();
                        return true;
                    default:
                        return false;
                }
            }
        }
        catch (ZoneException e)
        {
            session.Queue($"! {e.Error} {Printable.Escape(e.Message)}");
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private void Open(Session session, NodeRef file)
    {
        if (session.Files.Count >= MaxFiles)
        {
            throw new ZoneException(ZoneError.NoSpace, $"a session maps at most {MaxFiles} files at once");
        }

        FileData.RequireFile(file.Ino, _zone.Inodes.LoadNode(file));
        int handle = ++session.LastHandle;
        session.Files[handle] = file;
        _zone.Mappings.Observe(file.Ino);
        session.Queue($"= {handle} {FileLayout.Of(_zone, file).Format()}");
    }

    private void Allocate(Session session, int handle, ulong offset, ulong length)
    {
        var file = session.File(handle);
        ulong size = _zone.Inodes.LoadNode(file).Size;
        if (offset > size || length > size - offset)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"allocate [{offset}, +{length}) is outside the file's {size} bytes (grow it instead)");
        }

        _zone.Files.Allocate(Caller.Host, file, offset, length);
        session.Queue($"= {handle} {FileLayout.Of(_zone, file).Format()}");
    }

    private void Grow(Session session, int handle, ulong size)
    {
        var file = session.File(handle);
        ZoneFileMapping.GrowFile(_zone, file, size);
        session.Queue($"= {handle} {FileLayout.Of(_zone, file).Format()}");
    }

    private static ulong Number(string word) =>
        ulong.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) ? n : throw new FormatException(word);

    private static uint Generation(string word) =>
        uint.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) ? n : throw new FormatException(word);

    private static int Handle(string word) =>
        int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new FormatException(word);

    private sealed class Session(ulong id, ulong toldEpoch)
    {
        private readonly Queue<byte[]> _out = new();
        private int _sentOfFirst;

        public ulong Id { get; } = id;

        public ulong ToldEpoch { get; set; } = toldEpoch;

        public Dictionary<int, NodeRef> Files { get; } = [];

        public int LastHandle { get; set; }

        public List<byte> Input { get; } = [];

        /// <summary>Bytes waiting to be sent.</summary>
        public long Queued { get; private set; }

        public NodeRef File(int handle) =>
            Files.TryGetValue(handle, out var file) ? file : throw new ZoneException(ZoneError.InvalidArgument, $"this session has no mapping {handle}");

        public void Queue(string line)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
            _out.Enqueue(bytes);
            Queued += bytes.Length;
        }

        /// <summary>Sends what the socket takes now; false when the client is gone.</summary>
        public bool Flush(int socket)
        {
            while (_out.TryPeek(out byte[]? first))
            {
                int n = UnixSockets.SendNow(socket, first.AsSpan(_sentOfFirst));
                if (n < 0)
                {
                    return false;
                }

                if (n == 0)
                {
                    return true;
                }

                _sentOfFirst += n;
                Queued -= n;
                if (_sentOfFirst == first.Length)
                {
                    _out.Dequeue();
                    _sentOfFirst = 0;
                }
            }

            return true;
        }
    }
}
