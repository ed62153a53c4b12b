using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Ivshmem;

/// <summary>The unix socket files the service listens on: taken over when stale, never from a live server.</summary>
internal static class SocketFile
{
    /// <summary>
    /// Listens on <paramref name="path"/>, removing a stale socket file first (one nobody
    /// answers on); a live server there is an error, never taken over, and its file stays.
    /// </summary>
    public static int Listen(string path)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            if ((File.GetAttributes(path) & FileAttributes.Directory) != 0)
            {
                throw new ZoneException(ZoneError.Exists, $"{path} is a directory");
            }

            try
            {
                Libc.Close(UnixSockets.Connect(path));
                throw new ZoneException(ZoneError.Busy, $"{path}: another server is listening there");
            }
            catch (NativeException)
            {
                File.Delete(path); // nobody answers: a socket left by a service that died
            }
        }

        return UnixSockets.Listen(path, 64);
    }

    /// <summary>Closes a listening socket and removes its file.</summary>
    public static void Close(int listener, string path)
    {
        Libc.Close(listener);
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
