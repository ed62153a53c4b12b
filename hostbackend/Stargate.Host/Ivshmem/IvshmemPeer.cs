using Stargate.Interop.Native;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// One peer of the ivshmem protocol: a QEMU connected on the socket, or the host
/// service itself (no socket). Its eventfds are the ones others signal to
/// interrupt it: QEMU listens on a guest's and raises MSI-X vector v; the host
/// service polls its own.
/// </summary>
public sealed class IvshmemPeer : IDisposable
{
    public IvshmemPeer(int id, int socket, int vectors, int pid)
    {
        Id = id;
        Socket = socket;
        Pid = pid;
        Since = DateTimeOffset.UtcNow;
        Eventfds = new int[vectors];
        Doorbells = new ulong[vectors];
        Array.Fill(Eventfds, -1);
        try
        {
            for (int v = 0; v < vectors; v++)
            {
                Eventfds[v] = UnixSockets.NewEventfd();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Id { get; }

    /// <summary>The connection to its QEMU; -1 for the host service.</summary>
    public int Socket { get; private set; }

    public int Pid { get; }

    public DateTimeOffset Since { get; }

    public int[] Eventfds { get; }

    /// <summary>Doorbells received on each vector (counted for the host service, whose eventfds it reads).</summary>
    public ulong[] Doorbells { get; }

    public void Dispose()
    {
        if (Socket >= 0)
        {
            Libc.Close(Socket);
            Socket = -1;
        }

        for (int v = 0; v < Eventfds.Length; v++)
        {
            if (Eventfds[v] >= 0)
            {
                Libc.Close(Eventfds[v]);
                Eventfds[v] = -1;
            }
        }
    }
}
