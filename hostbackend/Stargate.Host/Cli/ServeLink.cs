using System.Text;
using System.Text.Json;
using Stargate.Host.Service;
using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>
/// How a CLI command finds and talks to the `stargate serve` that holds its zone.
/// Serve writes ZONE.serve (one line: the absolute path of its control socket) when it
/// starts and removes it when it stops; a file left by a serve that died names a socket
/// nobody answers on, and is ignored, as is a socket of another user (not root). ZONE.serve
/// may sit in a shared directory (/dev/shm): it is written under a random temporary name
/// (O_EXCL, O_NOFOLLOW, 0600) renamed over it, never through a symlink or over another
/// user's file, and read without following a symlink. A connection carries one request line
/// (Service/ControlServer.cs has the grammar) and its reply line; a granted lock then
/// keeps the connection, and closing it unlocks.
/// </summary>
internal sealed class ServeLink : IDisposable
{
    private readonly int _socket;
    private readonly FileStream _stream;
    private readonly StreamReader _reader;

    private ServeLink(int socket, string controlPath)
    {
        _socket = socket;
        ControlPath = controlPath;
        _stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(socket, ownsHandle: true), FileAccess.ReadWrite, 1);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public string ControlPath { get; }

    public static string FileFor(string zonePath) => System.IO.Path.GetFullPath(zonePath) + ".serve";

    /// <summary>
    /// Writes ZONE.serve through a temporary name nobody can guess and a rename, so a reader
    /// never sees half a line. An existing ZONE.serve that is a symlink, not a regular file,
    /// or another user's is refused with one line (ZoneException) and left as it is.
    /// </summary>
    public static void Publish(string zonePath, string controlPath)
    {
        string file = FileFor(zonePath);
        int errno = Sys.ErrnoOf(Libc.Lstat(file, out var status));
        if (errno == 0 && (status.Type != Libc.S_IFREG || status.Uid != Libc.Getuid()))
        {
            string what = status.Type == Libc.S_IFLNK ? "a symlink" : status.Type != Libc.S_IFREG ? "not a regular file" : $"owned by uid {status.Uid}";
            throw new ZoneException(ZoneError.NotPermitted, $"{file} is {what}; serve writes only its own regular file there: remove it and start serve again");
        }

        if (errno != 0 && errno != Errno.ENOENT)
        {
            throw Sys.Failure(errno, "lstat", file);
        }

        string temporary = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(file)!, $".{System.IO.Path.GetFileName(file)}.{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12))}");
        int fd = Sys.Check(Libc.Open(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x180 /* 0600 */), "open", temporary);
        try
        {
            using (var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, 1))
            {
                stream.Write(Encoding.UTF8.GetBytes(System.IO.Path.GetFullPath(controlPath) + "\n"));
            }

            File.Move(temporary, file, overwrite: true); // rename(2): replaces the name, follows nothing
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Removes ZONE.serve if it still names this serve's socket (a newer serve's file stays).</summary>
    public static void Withdraw(string zonePath, string controlPath)
    {
        string file = FileFor(zonePath);
        try
        {
            if (Read(file) == System.IO.Path.GetFullPath(controlPath))
            {
                File.Delete(file);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A connection to the serve named in ZONE.serve, or null when there is no such file or nobody answers.</summary>
    public static ServeLink? TryConnect(string zonePath)
    {
        string? control;
        try
        {
            control = Read(FileFor(zonePath));
        }
        catch (IOException)
        {
            return null;
        }

        if (string.IsNullOrEmpty(control))
        {
            return null;
        }

        int socket;
        try
        {
            socket = UnixSockets.Connect(control);
        }
        catch (NativeException)
        {
            return null;
        }

        // ZONE.serve may sit in a shared directory (/dev/shm): a socket another user listens
        // on is not our serve, and gets neither this command line nor a say in its result.
        uint uid = UnixSockets.PeerCredentials(socket).Uid;
        if (uid != 0 && uid != Libc.Getuid())
        {
            Libc.Close(socket);
            return null;
        }

        return new ServeLink(socket, control);
    }

    public static bool SameFile(string a, string b) => Canonical(a) == Canonical(b);

    /// <summary>Runs this command line in serve; serve's answer, or an IOException naming the socket.</summary>
    public RunReply Forward(IReadOnlyList<string> argv, string workingDirectory)
    {
        string reply = Ask("run " + JsonSerializer.Serialize(new RunRequest([.. argv], workingDirectory), ControlServer.Json));
        if (reply.StartsWith("error: ", StringComparison.Ordinal))
        {
            throw new IOException($"{ControlPath}: stargate serve refused the command: {reply[7..]}");
        }

        return JsonSerializer.Deserialize<RunReply>(reply, ControlServer.Json)
            ?? throw new IOException($"{ControlPath}: stargate serve sent an empty answer");
    }

    /// <summary>Asks for a lock; null when granted (held until Dispose), else serve's reason.</summary>
    public string? Lock(LockRequest request)
    {
        string reply = Ask("lock " + JsonSerializer.Serialize(request, ControlServer.Json));
        return reply == "ok" ? null : reply.StartsWith("error: ", StringComparison.Ordinal) ? reply[7..] : reply;
    }

    /// <summary>
    /// Makes this connection a mapping session (`map`; Service/MappingSessions.cs has its
    /// lines): null when serve took it, else serve's reason. From then on <see cref="ReadLine"/>
    /// is for one reader thread and <see cref="Send"/> may come from any thread.
    /// </summary>
    public string? StartMapping()
    {
        string reply = Ask("map");
        return reply == "ok" ? null : reply.StartsWith("error: ", StringComparison.Ordinal) ? reply[7..] : reply;
    }

    /// <summary>The next line from serve; null once serve closed the connection (or it was shut down).</summary>
    public string? ReadLine()
    {
        try
        {
            return _reader.ReadLine();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Sends one line (callers take turns); IOException when serve is gone.</summary>
    public void Send(string line) => UnixSockets.SendAll(_socket, Encoding.UTF8.GetBytes(line + "\n"));

    /// <summary>Ends both directions, so that a thread blocked in <see cref="ReadLine"/> returns null.</summary>
    public void Shutdown() => Libc.Shutdown(_socket, Libc.SHUT_RDWR);

    /// <summary>Waits up to <paramref name="timeoutMs"/> for serve to close the connection (it stopped): true if it did.</summary>
    public bool ClosedWithin(int timeoutMs)
    {
        Span<PollFd> fd = [new PollFd { Fd = _socket, Events = Libc.POLLIN }];
        if (Sys.Poll(fd, timeoutMs) == 0)
        {
            return false;
        }

        Span<byte> probe = stackalloc byte[16];
        return UnixSockets.ReceiveNow(_socket, probe) == 0 || (fd[0].Revents & ~Libc.POLLIN) != 0;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }

    private string Ask(string request)
    {
        _stream.Write(Encoding.UTF8.GetBytes(request + "\n"));
        _stream.Flush();
        return _reader.ReadLine() ?? throw new IOException($"{ControlPath}: stargate serve closed the connection without an answer");
    }

    /// <summary>
    /// The line in ZONE.serve, trimmed; null when it is absent, unreadable, a symlink (O_NOFOLLOW)
    /// or not a regular file (O_NONBLOCK: a FIFO put there does not hang the open).
    /// </summary>
    private static string? Read(string file)
    {
        int fd = Libc.Open(file, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (Sys.ErrnoOf(fd) != 0)
        {
            return null;
        }

        if (Sys.ErrnoOf(Libc.Fstat(fd, out var status)) != 0 || status.Type != Libc.S_IFREG)
        {
            Libc.Close(fd);
            return null;
        }

        using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd().Trim();
    }

    private static string Canonical(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            return File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full;
        }
    }
}
