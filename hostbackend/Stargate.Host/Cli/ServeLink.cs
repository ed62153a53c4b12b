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
/// nobody answers on, and is ignored, as is a socket of another user (not root). A connection carries one request line
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

    /// <summary>Writes ZONE.serve through a temporary name and a rename, so a reader never sees half a line.</summary>
    public static void Publish(string zonePath, string controlPath)
    {
        string file = FileFor(zonePath);
        string temporary = $"{file}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, System.IO.Path.GetFullPath(controlPath) + "\n");
        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>Removes ZONE.serve if it still names this serve's socket (a newer serve's file stays).</summary>
    public static void Withdraw(string zonePath, string controlPath)
    {
        string file = FileFor(zonePath);
        try
        {
            if (File.ReadAllText(file).Trim() == System.IO.Path.GetFullPath(controlPath))
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
        string control;
        try
        {
            control = File.ReadAllText(FileFor(zonePath)).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (control.Length == 0)
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
