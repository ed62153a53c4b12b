namespace Stargate.Interop.Native;

/// <summary>
/// The one gate every libc result passes: a negative result becomes a
/// <see cref="NativeException"/> naming the operation and path; EINTR is
/// retried here and nowhere else.
/// </summary>
public static class Sys
{
    /// <summary>Runs <paramref name="call"/> until it does not fail with EINTR; throws on any other failure.</summary>
    public static long Check(Func<long> call, string operation, string? path = null)
    {
        while (true)
        {
            long result = call();
            if (result >= 0)
            {
                return result;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new NativeException(operation, path, errno);
            }
        }
    }

    /// <summary>Like <see cref="Check"/> but returns the errno (0 on success) for callers that expect some failures.</summary>
    public static int Try(Func<long> call)
    {
        while (true)
        {
            if (call() >= 0)
            {
                return 0;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return errno;
            }
        }
    }
}
