using System.Runtime.InteropServices;
using Stargate.Interop.Native;

namespace Stargate.Interop.Tests.Native;

/// <summary>
/// The syscall gate: errno becomes a NativeException naming the operation and the path; only
/// the wait retries EINTR, and a retry waits for what remains of the timeout.
/// </summary>
public unsafe class SysGateTests
{
    /// <summary>SIGWINCH on Linux, as a raw number (PosixSignal's own value is a negative alias).</summary>
    private const int SigWinch = 28;

    // The fake poll's script and what it was asked for; xunit runs one test of a class at a time.
    private static readonly List<int> Timeouts = [];
    private static readonly Queue<(long TakesMs, int Result, int Errno)> Script = new();
    private static long _nowMs;

    [Fact]
    public void Check_WhenTheCallSucceeded_ReturnsItsResult()
    {
        int fd = Sys.Check(Libc.Eventfd(0, Libc.EFD_CLOEXEC), "eventfd");
        try
        {
            Assert.True(fd >= 0);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    [Fact]
    public void Check_WhenTheCallFailed_ThrowsNamingTheOperationThePathAndErrno()
    {
        const string path = "/nonexistent-stargate-dir/zone";
        var e = Assert.Throws<NativeException>(() => Sys.Check(Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", path));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Equal("open", e.Operation);
        Assert.Equal(path, e.Path);
        Assert.Equal($"open {path}: No such file or directory", e.Message);
    }

    [Fact]
    public void Check_OfAConnectToNobody_NamesConnectAndTheSocketPath()
    {
        string path = $"/tmp/stargate-gate-{Environment.ProcessId}-nobody.sock";
        var e = Assert.Throws<NativeException>(() => UnixSockets.Connect(path));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Equal("connect", e.Operation);
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Expect_WhenErrnoIsExpected_ReturnsIt_AndOtherwiseThrows()
    {
        const string path = "/nonexistent-stargate-dir/zone";
        Assert.Equal(Errno.ENOENT, Sys.Expect(Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", path, Errno.EAGAIN, Errno.ENOENT));
        Assert.Equal(0, Sys.Expect(0, "open", path, Errno.ENOENT));

        var e = Assert.Throws<NativeException>(() => Sys.Expect(Libc.Flock(-1, Libc.LOCK_EX | Libc.LOCK_NB), "flock", path, Errno.EAGAIN));
        Assert.Equal(Errno.EBADF, e.Errno);
        Assert.Equal("flock", e.Operation);
    }

    [Fact]
    public void Check_WhenACallOtherThanTheWaitIsInterrupted_ReportsEINTRWithoutRetrying()
    {
        Marshal.SetLastPInvokeError(Errno.EINTR);
        var e = Assert.Throws<NativeException>(() => Sys.Check(-1, "write(eventfd)"));
        Assert.Equal(Errno.EINTR, e.Errno);
    }

    [Fact]
    public void Poll_WhenInterrupted_WaitsAgainForTheRemainingTimeoutOnly()
    {
        Arrange((200, -1, Errno.EINTR), (100, -1, Errno.EINTR), (200, 0, 0));
        Assert.Equal(0, Sys.Poll([], 500, &FakePoll, &FakeClock));
        Assert.Equal([500, 300, 200], Timeouts);
    }

    [Fact]
    public void Poll_WhenInterruptedAfterTheDeadline_OnlyLooksOnceMore()
    {
        Arrange((700, -1, Errno.EINTR), (0, 1, 0));
        Assert.Equal(1, Sys.Poll([], 500, &FakePoll, &FakeClock));
        Assert.Equal([500, 0], Timeouts);
    }

    [Fact]
    public void Poll_WithoutATimeout_StaysWithoutOneAfterAnInterruption()
    {
        Arrange((5_000, -1, Errno.EINTR), (0, 1, 0));
        Assert.Equal(1, Sys.Poll([], -1, &FakePoll, &FakeClock));
        Assert.Equal([-1, -1], Timeouts);
    }

    [Fact]
    public void Poll_WhenItFailsOtherwise_ThrowsNamingPoll()
    {
        Arrange((0, -1, Errno.EINVAL));
        var e = Assert.Throws<NativeException>(() => Sys.Poll([], 100, &FakePoll, &FakeClock));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Equal("poll", e.Operation);
        Assert.Equal([100], Timeouts);
    }

    [Fact]
    public void Poll_OnARealEventfd_SaysWhetherItIsReady()
    {
        int fd = UnixSockets.NewEventfd();
        try
        {
            Span<PollFd> fds = [new PollFd { Fd = fd, Events = Libc.POLLIN }];
            Assert.Equal(0, Sys.Poll(fds, 10));
            UnixSockets.Signal(fd);
            Assert.Equal(1, Sys.Poll(fds, 10_000));
            Assert.Equal(Libc.POLLIN, fds[0].Revents);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    [Fact]
    public void Poll_WhenARealSignalInterruptsIt_WaitsOnUntilTheFdIsReady()
    {
        // A handler must be installed for the signal to interrupt poll (SIGWINCH is ignored by
        // default); .NET installs it with SA_RESTART, which poll ignores: it fails with EINTR.
        using var handler = PosixSignalRegistration.Create((PosixSignal)SigWinch, context => context.Cancel = true);
        int fd = UnixSockets.NewEventfd();
        int tid = 0;
        int ready = -1;
        Exception? failure = null;
        Interlocked.Exchange(ref _interrupted, 0);
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref tid, Libc.Gettid());
            try
            {
                Span<PollFd> fds = [new PollFd { Fd = fd, Events = Libc.POLLIN }];
                ready = Sys.Poll(fds, 60_000, &CountingPoll, &RealClock);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        try
        {
            waiter.Start();
            while (Volatile.Read(ref _interrupted) == 0 && waiter.IsAlive)
            {
                if (Volatile.Read(ref tid) != 0)
                {
                    Sys.Check(Libc.Tgkill(Environment.ProcessId, Volatile.Read(ref tid), SigWinch), "tgkill");
                }

                Thread.Sleep(20);
            }

            UnixSockets.Signal(fd);
            Assert.True(waiter.Join(TimeSpan.FromSeconds(30)), "the wait did not end when its fd became ready");
            Assert.Null(failure);
            Assert.Equal(1, ready);
            Assert.True(_interrupted > 0, "no signal interrupted the wait");
        }
        finally
        {
            UnixSockets.Signal(fd);
            waiter.Join(TimeSpan.FromSeconds(30));
            Libc.Close(fd);
        }
    }

    private static int _interrupted;

    /// <summary>The real poll, counting the calls a signal interrupted (errno kept for the gate).</summary>
    private static int CountingPoll(PollFd* fds, nuint count, int timeoutMs)
    {
        int result = Libc.Poll(fds, count, timeoutMs);
        int errno = Marshal.GetLastPInvokeError();
        if (result < 0 && errno == Errno.EINTR)
        {
            Interlocked.Increment(ref _interrupted);
        }

        Marshal.SetLastPInvokeError(errno);
        return result;
    }

    private static long RealClock() => Environment.TickCount64;

    private static void Arrange(params (long TakesMs, int Result, int Errno)[] calls)
    {
        Timeouts.Clear();
        Script.Clear();
        _nowMs = 1_000_000;
        foreach (var call in calls)
        {
            Script.Enqueue(call);
        }
    }

    private static int FakePoll(PollFd* fds, nuint count, int timeoutMs)
    {
        Timeouts.Add(timeoutMs);
        var (takesMs, result, errno) = Script.Dequeue();
        _nowMs += takesMs;
        Marshal.SetLastPInvokeError(errno);
        return result;
    }

    private static long FakeClock() => _nowMs;
}
