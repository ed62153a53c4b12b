using System.Text;
using System.Text.Json;
using Stargate.Interop.Native;

namespace Stargate.Host.Ivshmem;

/// <summary>The control socket of `stargate peers` and `stargate ring`: one request line, one reply line.</summary>
public sealed partial class IvshmemServer
{
    private void AcceptControls()
    {
        for (int socket = UnixSockets.Accept(_control); socket >= 0; socket = UnixSockets.Accept(_control))
        {
            if (_controls.Count >= ServerLimits.MaxControlConnections)
            {
                Libc.Close(socket);
                continue;
            }

            _controls[socket] = new ControlClient(DateTime.UtcNow + ServerLimits.ControlDeadline);
        }
    }

    /// <summary>Closes control clients that have not sent their request in time: they cannot hold slots.</summary>
    private void ExpireControls()
    {
        var now = DateTime.UtcNow;
        foreach (var (socket, _) in _controls.Where(c => c.Value.Deadline <= now).ToList())
        {
            _controls.Remove(socket);
            Libc.Close(socket);
        }
    }

    private int MillisecondsToNextDeadline()
    {
        if (_controls.Count == 0)
        {
            return -1;
        }

        var next = _controls.Values.Min(c => c.Deadline) - DateTime.UtcNow;
        return (int)Math.Clamp(Math.Ceiling(next.TotalMilliseconds), 0, int.MaxValue);
    }

    /// <summary>A control connection: what it has sent so far, and when it must have finished.</summary>
    private sealed record ControlClient(DateTime Deadline)
    {
        public List<byte> Buffer { get; } = [];
    }

    /// <summary>Control requests are one line: "peers" or "ring ID VECTOR"; the reply is one line, then the connection closes.</summary>
    private void ControlReadable(int socket)
    {
        Span<byte> chunk = stackalloc byte[ServerLimits.MaxControlRequest];
        int n = UnixSockets.ReceiveNow(socket, chunk);
        if (n < 0)
        {
            return;
        }

        var buffer = _controls[socket].Buffer;
        buffer.AddRange(chunk[..n]);
        int newline = buffer.IndexOf((byte)'\n');
        if (n > 0 && newline < 0 && buffer.Count < ServerLimits.MaxControlRequest)
        {
            return;
        }

        string request = Encoding.UTF8.GetString([.. buffer.Take(newline < 0 ? buffer.Count : newline)]).Trim();
        string reply = newline < 0 ? "error: a request is one line of at most 256 bytes" : Answer(request);
        try
        {
            byte[] bytes = Encoding.UTF8.GetBytes(reply + "\n");
            using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(socket, ownsHandle: false), FileAccess.Write);
            stream.Write(bytes);
        }
        catch (IOException)
        {
            // The asker went away: nothing to tell.
        }

        _controls.Remove(socket);
        Libc.Close(socket);
    }

    private string Answer(string request)
    {
        string[] words = request.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words is ["peers"])
        {
            return JsonSerializer.Serialize(Peers(), PeerStatus.Json);
        }

        if (words is ["ring", var idText, var vectorText] && int.TryParse(idText, out int id) && int.TryParse(vectorText, out int vector))
        {
            if (!_guests.TryGetValue(id, out var guest))
            {
                return $"error: no guest has id {id}";
            }

            if (vector < 0 || vector >= guest.Eventfds.Length)
            {
                return $"error: vector {vector} is outside 0..{guest.Eventfds.Length - 1}";
            }

            UnixSockets.Signal(guest.Eventfds[vector]);
            ServerLog.Rang(_log, id, vector);
            return "ok";
        }

        return $"error: unknown request '{(request.Length > 40 ? request[..40] : request)}' (requests: peers; ring ID VECTOR)";
    }
}
