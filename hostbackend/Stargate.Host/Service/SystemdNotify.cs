using System.Net.Sockets;
using System.Text;

namespace Stargate.Host.Service;

/// <summary>
/// sd_notify(3), without libsystemd: under a unit of Type=notify, systemd names a datagram
/// socket in NOTIFY_SOCKET (a path, or "@name" for an abstract one) and waits for "READY=1"
/// on it before it counts the service as started. Outside systemd there is no NOTIFY_SOCKET
/// and nothing is sent.
/// </summary>
internal static class SystemdNotify
{
    /// <summary>Whether systemd's journal reads this process's stderr (it sets JOURNAL_STREAM for a unit's output).</summary>
    public static bool ToJournal => Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 };

    /// <summary>Sends newline-separated assignments ("READY=1\nSTATUS=..."); false when there is no socket, or sending failed (<paramref name="error"/> says why).</summary>
    public static bool Send(string state, out string? error)
    {
        error = null;
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            var endpoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
            socket.SendTo(Encoding.UTF8.GetBytes(state), endpoint);
            return true;
        }
        catch (SocketException e)
        {
            error = $"NOTIFY_SOCKET {path}: {e.Message}";
            return false;
        }
    }
}
