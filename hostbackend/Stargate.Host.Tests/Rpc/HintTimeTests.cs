using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// Times a guest writes into a file's hint: a clock a little ahead is followed (every change
/// moves ctime past it), one more than SGZ_CLOCK_LEAD_MAX_NS ahead is forged and not followed.
/// </summary>
public class HintTimeTests
{
    [Theory]
    [InlineData(60, true)]
    [InlineData(2 * 86_400, false)]
    public void AChange_FollowsAHintAhead_OnlyWithinADay(long aheadSeconds, bool followed)
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        ulong hinted = ZoneClock.NowNs() + ((ulong)aheadSeconds * 1_000_000_000UL);
        ref var hint = ref guest.Hint(file.Ino);
        hint.Generation = file.Generation;
        hint.MtimeNs = hinted;
        hint.CtimeNs = hinted;
        hint.Seq = 2;

        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, SgzAbi.SIfreg | 0x180)).Status);
        ulong ctime = bench.Zone.Names.Stat("/d/f").CtimeNs;
        if (followed)
        {
            Assert.Equal(hinted + 1, ctime);
        }
        else
        {
            Assert.InRange(ctime, ZoneClock.NowNs() - 60_000_000_000UL, ZoneClock.NowNs());
        }
    }
}
