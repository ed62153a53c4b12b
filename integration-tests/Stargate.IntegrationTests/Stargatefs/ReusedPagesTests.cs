using Stargate.IntegrationTests.Guest;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Pages that one guest mapped for a file, and that the host gives to another file after a
/// second guest deleted the first: the first guest maps the new file over the same pages
/// (the benchmark's transfer found a kernel warning here, which panic_on_warn turns into a panic).
/// </summary>
public sealed class ReusedPagesTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void PagesMappedForADeletedFile_AreMappedAgainForTheFileThatReusesThem(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output);
        var (a, b) = (served.Guests[0], served.Guests[1]);
        for (int round = 1; round <= 4; round++)
        {
            // A writes round N and deletes round N-1, whose pages round N+1 then gets;
            // B maps each round's file with no cache dropped in between.
            a.Exec($"mkdir /mnt/r{round} && sgbench xwrite /mnt/r{round} 4 >/tmp/w && rm -rf /mnt/r{round - 1}");
            string written = a.Exec("cat /tmp/w")["sum"];
            string read = b.Exec($"sgbench --mmap xread /mnt/r{round} 4")["sum"];
            b.Check(read == written, $"round {round}: B maps the bytes A wrote (sum {read}, written {written})");
        }

        served.Finish();
    }
}
