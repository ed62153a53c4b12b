using Stargate.Interop.Native;
using Stargate.Testing;

namespace Stargate.Host.Tests.Support;

/// <summary>
/// Runs a small Python program as another user (nobody, uid 65534, by default), through
/// setpriv with no supplementary groups: how the tests, which run as root, play a local user
/// or a QEMU of another account against the service's sockets and files.
/// </summary>
internal static class OtherUser
{
    public const uint Nobody = 65534;

    /// <summary>Why the tests that need another user cannot run here, or null when they can.</summary>
    public static string? Missing =>
        Libc.Getuid() != 0 ? "needs root to run a process as another user"
        : !File.Exists("/usr/bin/setpriv") ? "needs /usr/bin/setpriv"
        : !File.Exists("/usr/bin/python3") ? "needs /usr/bin/python3"
        : null;

    /// <summary>
    /// A QEMU's side of the ivshmem protocol, reduced to what the tests check: the first three
    /// messages (or fewer) and how many fds came with them. Prints "messages V ID -1 fds N",
    /// after "closed" when the server closed first.
    /// </summary>
    public const string IvshmemClient = """
        import socket, sys
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        s.settimeout(10)
        values, fds = [], 0
        while len(values) < 3:
            data, ancillary, _, _ = s.recvmsg(8, socket.CMSG_SPACE(4))
            if not data:
                print('closed')
                break
            fds += sum(len(d) // 4 for level, kind, d in ancillary if kind == socket.SCM_RIGHTS)
            values.append(int.from_bytes(data, 'little', signed=True))
        print('messages', *values, 'fds', fds)
        """;

    /// <summary>One request line to a control socket; prints the reply line.</summary>
    public const string ControlClient = """
        import socket, sys
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        s.settimeout(10)
        s.sendall(sys.argv[2].encode() + b'\n')
        print(s.makefile().readline().strip())
        """;

    /// <summary>Binds a unix socket at the path and exits: a stale socket file of this user.</summary>
    public const string StaleSocket = """
        import socket, sys
        socket.socket(socket.AF_UNIX).bind(sys.argv[1])
        """;

    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/> as uid <paramref name="uid"/>, gid <paramref name="gid"/>; its result.</summary>
    public static ProcessRunner.Result Run(string script, IEnumerable<string> args, uint uid = Nobody, uint gid = Nobody) =>
        ProcessRunner.Run("/usr/bin/setpriv", [$"--reuid={uid}", $"--regid={gid}", "--clear-groups", "/usr/bin/python3", "-c", script, .. args], TimeSpan.FromSeconds(30));
}
