using System.Globalization;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// copy_file_range between two stargatefs files is the host's (SGZ_OP_COPY): a multi-MiB file
/// with holes copies whole, its holes stay holes (a splice copy through the guest would write
/// them as zeros), and the host reads the same bytes. A copy below the module's threshold goes
/// by splice; copies to and from the guest's tmpfs still work (the kernel refuses
/// copy_file_range across file systems with EXDEV, and sgfstest then uses sendfile, as cp
/// falls back to read and write).
/// </summary>
public sealed class CopyTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void CopyFileRange_BetweenStargatefsFiles_IsTheHosts_AndKeepsHoles(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output);
        var (zone, g) = (served.Zone, served.Guests[0]);

        // 3 MB of data, a hole to 8 MiB, 5 MB of data, a hole, 100 bytes at 20,000,000.
        g.Exec("touch /mnt/src && sgfstest fill /mnt/src 0 3000000 1 && sgfstest fill /mnt/src 8388608 5000000 2 && sgfstest fill /mnt/src 20000000 100 3");
        var source = g.Sum("/mnt/src");
        g.Check(source.Size == 20000100, $"/mnt/src is {source.Size} bytes");

        var copy = g.Exec($"sgfstest copy /mnt/src /mnt/dst {64 * MiB}");
        g.Check(copy["via"] == "copy_file_range" && copy["bytes"] == "20000100", $"copy_file_range into /mnt/dst: {copy.Text}");
        g.AssertReads("/mnt/dst", source);
        // The source's allocation (its writes allocated ahead, whole chunks): the copy's may not be more.
        long sourceBlocks = long.Parse(g.Exec("stat -c blocks=%b /mnt/src")["blocks"], CultureInfo.InvariantCulture);
        long blocks = long.Parse(copy["blocks"], CultureInfo.InvariantCulture);
        g.Check(blocks <= sourceBlocks && blocks * 512 < 16 * MiB, $"/mnt/dst has {blocks} blocks, /mnt/src {sourceBlocks}: the copy filled holes");
        g.Check(g.Exec("stat -c size=%s /mnt/dst")["size"] == "20000100", "the guest sees /mnt/dst at the copy's size");
        byte[] host = ZoneFiles.Get(zone, "/dst");
        g.Check(FileSum.Of(host) == source, $"the host reads /dst as {FileSum.Of(host)}, the guest copied {source}");

        // In calls shorter than the module's threshold: the kernel's splice copy (holes written as zeros).
        g.Exec("sgfstest copy /mnt/src /mnt/small 4096");
        g.AssertReads("/mnt/small", source);
        g.Exec("rm /mnt/small");

        // Across file systems: to and from the guest's tmpfs.
        g.Exec("mkdir -p /tmp/t && mount -t tmpfs tmpfs /tmp/t");
        var toTmpfs = g.Exec($"sgfstest copy /mnt/src /tmp/t/a {64 * MiB}");
        g.Check(toTmpfs["bytes"] == "20000100", $"copy to tmpfs: {toTmpfs.Text}");
        g.AssertReads("/tmp/t/a", source);
        var fromTmpfs = g.Exec($"sgfstest copy /tmp/t/a /mnt/back {64 * MiB}");
        g.Check(fromTmpfs["bytes"] == "20000100", $"copy from tmpfs: {fromTmpfs.Text}");
        g.AssertReads("/mnt/back", source);
        output.WriteLine($"to tmpfs via {toTmpfs["via"]}, from tmpfs via {fromTmpfs["via"]}");
        served.Finish();
    }
}
