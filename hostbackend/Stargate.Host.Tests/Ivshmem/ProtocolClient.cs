using Stargate.Interop.Native;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>
/// The client side of QEMU's ivshmem protocol, as hw/misc/ivshmem.c reads it: version,
/// own id, the memory fd, then (peer id, eventfd) per vector of each peer, own last.
/// </summary>
internal sealed class ProtocolClient : IDisposable
{
    public ProtocolClient(string socket, int vectors)
    {
        Fd = UnixSockets.Connect(socket);
        Vectors = vectors;
        Assert.True(Next(out long version, out int none));
        Assert.Equal(0, version);
        Assert.Equal(-1, none);
        Assert.True(Next(out long id, out none));
        Id = (int)id;
        Assert.Equal(-1, none);
        Assert.True(Next(out long minusOne, out int memory));
        Assert.Equal(-1, minusOne);
        Assert.True(memory >= 0, "the third message carries the zone's fd");
        MemoryFd = memory;

        // Peers' eventfds until our own arrive (ours come last, one per vector).
        while (true)
        {
            Assert.True(Next(out long peer, out int fd));
            Assert.True(fd >= 0, $"set-up message for peer {peer} carries no fd");
            Record((int)peer, fd);
            if (peer == Id && PeerFds[Id].Count == vectors)
            {
                break;
            }
        }
    }

    public int Fd { get; private set; }

    public int Id { get; }

    public int Vectors { get; }

    public int MemoryFd { get; }

    /// <summary>Every peer this client knows, with the eventfds it signals to ring them.</summary>
    public Dictionary<int, List<int>> PeerFds { get; } = [];

    /// <summary>Reads one later message: a peer's eventfd (it joined) or a peer id alone (it left).</summary>
    public (int Peer, int Fd) ReadNotice()
    {
        Assert.True(Next(out long peer, out int fd), "the server closed the connection");
        if (fd < 0)
        {
            PeerFds.Remove((int)peer);
        }
        else
        {
            Record((int)peer, fd);
        }

        return ((int)peer, fd);
    }

    /// <summary>True once the server has closed this connection.</summary>
    public bool ClosedByServer() => !Next(out _, out _);

    public void Ring(int peer, int vector) => UnixSockets.Signal(PeerFds[peer][vector]);

    /// <summary>The doorbells that arrived on one of our own vectors since the last look.</summary>
    public ulong Rung(int vector) => UnixSockets.Drain(PeerFds[Id][vector]);

    public void Dispose()
    {
        foreach (int fd in PeerFds.Values.SelectMany(f => f).Append(MemoryFd).Append(Fd))
        {
            Libc.Close(fd);
        }

        Fd = -1;
    }

    private void Record(int peer, int fd)
    {
        if (!PeerFds.TryGetValue(peer, out var fds))
        {
            PeerFds[peer] = fds = [];
        }

        fds.Add(fd);
    }

    /// <summary>The next message, failing (not hanging) if the server sends nothing for 10 s.</summary>
    private bool Next(out long value, out int fd)
    {
        Span<PollFd> wait = [new PollFd { Fd = Fd, Events = Libc.POLLIN }];
        int ready = Sys.Poll(wait, 10_000);
        Assert.True(ready == 1, "the server sent nothing for 10 s: is it stalled?");
        return UnixSockets.ReceiveMessage(Fd, out value, out fd);
    }
}
