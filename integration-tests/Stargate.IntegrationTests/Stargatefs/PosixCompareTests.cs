namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>PosixTests' comparison: a listed difference passes only with the result stargatefs must give.</summary>
public sealed class PosixCompareTests
{
    [Fact]
    public void ADifference_IsExpected_OnlyWhenListed_WithStargatefsOwnValue()
    {
        string[] tmpfs = ["fallocate create=ok blocks=2048 keep=ok blocks=4096 punch=ok blocks=3840", "rename whiteout=ok", "times write=mc"];
        string[] ours = ["fallocate create=ok blocks=2056 keep=ok blocks=4112 punch=ok blocks=3848", "rename whiteout=EINVAL", "times write=m"];
        var differences = PosixTests.Compare(tmpfs, ours).ToList();

        Assert.Equal(["fallocate blocks", "fallocate blocks", "fallocate blocks", "rename whiteout", "times write"], differences.Select(d => d.Key));
        Assert.Equal([0, 1, 2], differences.Take(3).Select(d => d.Occurrence));
        Assert.Equal([true, true, true, true, false], differences.Select(PosixTests.Expected));

        // The right key with another value than stargatefs must give is a failure.
        string[] wrong = ["fallocate create=ok blocks=2056 keep=ok blocks=9999 punch=ok blocks=3848", "rename whiteout=EPERM", "times write=mc"];
        Assert.Equal([true, false, true, false], PosixTests.Compare(tmpfs, wrong).Select(PosixTests.Expected));
    }

    [Fact]
    public void ACaseOnOneSideOnly_IsNeverExpected()
    {
        var differences = PosixTests.Compare(["sparse blocks=0"], []).ToList();
        Assert.Single(differences);
        Assert.False(PosixTests.Expected(differences[0]));
    }
}
