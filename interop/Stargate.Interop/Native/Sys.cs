namespace Stargate.Interop.Native;

/// <summary>
/// The one gate every libc result passes, as dotnet/runtime's Interop.CheckIo: it takes the
/// call's return value (never the call), reads errno at once, and turns a failure into a
/// <see cref="NativeException"/> naming the operation, the path and errno.
///
/// EINTR is retried in one place only: <see cref="Poll(Span{PollFd}, int)"/>, the one call
/// of the host that sleeps with a timeout, which poll(2) never restarts, even under
/// SA_RESTART; it waits again for what remains of the timeout, not the whole of it. Every
/// other call the host makes either does not sleep (non-blocking fds, MSG_DONTWAIT, LOCK_NB)
/// or is restarted by the kernel (.NET installs its signal handlers with SA_RESTART), so an
/// EINTR from one of them is not expected: the gate reports it like any other errno.
/// </summary>
public static class Sys
{
    /// <summary>The gate: <paramref name="result"/> when it is not negative; else throws with errno.</summary>
    /// <exception cref="NativeException">The call failed; errno, <paramref name="operation"/> and <paramref name="path"/> say how.</exception>
    public static int Check(int result, string operation, string? path = null) =>
        result >= 0 ? result : throw Failure(Marshal.GetLastPInvokeError(), operation, path);

    /// <inheritdoc cref="Check(int, string, string?)"/>
    public static long Check(long result, string operation, string? path = null) =>
        result >= 0 ? result : throw Failure(Marshal.GetLastPInvokeError(), operation, path);

    /// <summary>
    /// The gate for a call whose failure with one of <paramref name="expected"/> is an answer,
    /// not an error (EAGAIN from a non-blocking call, EWOULDBLOCK from LOCK_NB): 0 when the call
    /// succeeded, the errno when it is expected; any other failure throws as <see cref="Check(long, string, string?)"/>.
    /// </summary>
    public static int Expect(long result, string operation, string? path, params ReadOnlySpan<int> expected)
    {
        if (result >= 0)
        {
            return 0;
        }

        int errno = Marshal.GetLastPInvokeError();
        return expected.Contains(errno) ? errno : throw Failure(errno, operation, path);
    }

    /// <summary>
    /// For a caller that interprets every failure itself (open's errors become the zone's own
    /// messages, a failed copy_file_range falls back to copying): 0 when <paramref name="result"/>
    /// is not negative, else the call's errno. Nothing throws here.
    /// </summary>
    public static int ErrnoOf(long result) => result >= 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The exception for a call that failed with <paramref name="errno"/> (for a caller that looked at errno itself first).</summary>
    public static NativeException Failure(int errno, string operation, string? path = null) => new(operation, path, errno);

    /// <summary>
    /// poll(2) on <paramref name="fds"/> for at most <paramref name="timeoutMs"/> (-1: no limit);
    /// returns how many fds are ready (0: the time ran out). A signal that interrupts the wait
    /// does not end it: it goes on for the time that remains.
    /// </summary>
    public static unsafe int Poll(Span<PollFd> fds, int timeoutMs) => Poll(fds, timeoutMs, &Libc.Poll, &MonotonicMs);

    /// <summary>
    /// <see cref="Poll(Span{PollFd}, int)"/> with the call and the clock given (tests put a fake
    /// in): the one place EINTR is retried. The deadline is fixed before the first call; each
    /// retry is given what is left of it (0 once it has passed, so the last call only looks).
    /// </summary>
    internal static unsafe int Poll(Span<PollFd> fds, int timeoutMs, delegate*<PollFd*, nuint, int, int> poll, delegate*<long> clockMs)
    {
        long deadline = timeoutMs < 0 ? -1 : clockMs() + timeoutMs;
        fixed (PollFd* p = fds)
        {
            int wait = timeoutMs < 0 ? -1 : timeoutMs;
            while (true)
            {
                int ready = poll(p, (nuint)fds.Length, wait);
                if (ready >= 0)
                {
                    return ready;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw Failure(errno, "poll");
                }

                wait = deadline < 0 ? -1 : (int)Math.Clamp(deadline - clockMs(), 0, int.MaxValue);
            }
        }
    }

    private static long MonotonicMs() => Environment.TickCount64;
}
