using Stargate.Host.Rpc;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// The service's worst reply time per guest (`stargate peers`): from the loop first seeing a
/// request to its reply, time put aside for another guest's hold included; per slot; started
/// again by --reset-worst and when the guest leaves.
/// </summary>
public class ReplyLatencyTests
{
    [Fact]
    public void ARequestPutAsideForAHold_CountsItsWholeWait_OnlyForItsOwnGuest()
    {
        using var bench = new RpcBench();
        bench.Zone.GuestWaitMs = 0;
        var dir = bench.SharedDirectory("shared");
        var asker = bench.Guest(2);
        var other = bench.Guest(3);
        var file = bench.CreateFile(asker, "held", dir);
        Assert.Equal(0u, bench.Call(other, Req.Create(dir, "warm")).Status);
        var latency = bench.Server.Latency;
        latency.ResetWorst();
        Assert.Null(latency.WorstMicroseconds(asker.Slot));

        ref ulong word = ref other.InodeLockWord(file.Ino);
        Volatile.Write(ref word, (ulong)other.Slot + 1);
        ulong truncate = asker.Send(0, Req.SetSize(file, 4096));
        ulong create = other.Send(0, Req.Create(dir, "meanwhile"));
        bench.Serve();
        Assert.Equal(0u, other.Reply(0, create).Status);
        Thread.Sleep(200);
        Volatile.Write(ref word, 0);
        bench.Serve();
        Assert.Equal(0u, asker.Reply(0, truncate).Status);

        Assert.True(latency.WorstMicroseconds(asker.Slot) >= 200_000, $"the put-aside truncate waited 200 ms: {latency.WorstMicroseconds(asker.Slot)} us");
        Assert.True(latency.WorstMicroseconds(other.Slot) < 200_000, $"the other guest's create did not wait for it: {latency.WorstMicroseconds(other.Slot)} us");

        latency.ResetWorst();
        Assert.Null(latency.WorstMicroseconds(asker.Slot));
        Assert.Equal(0u, bench.Call(asker, Req.Create(dir, "after")).Status);
        Assert.NotNull(latency.WorstMicroseconds(asker.Slot));
        latency.Forget(asker.Slot);
        Assert.Null(latency.WorstMicroseconds(asker.Slot));
    }
}
