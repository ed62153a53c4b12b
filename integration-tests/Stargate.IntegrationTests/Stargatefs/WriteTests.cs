using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// A guest writes in place, into the pages the host allocated: through pwrite and through a
/// shared mapping, growing a file inside its allocated space; the host reads exactly that at
/// once. A write into a hole first gets pages from the service (ALLOCATE) and lands in them.
/// </summary>
public sealed class WriteTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void GuestWrites_AreWhatTheHostReads(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        byte[] small = HostData.Random(4097, 11);          // two 4 KiB pages
        byte[] big = HostData.Random(3 << 20, 12);         // two 2 MiB leaves
        byte[] sparse = HostData.Random(1000, 13);
        using var served = ServedZone.Start(kernel, guests: 1, output, zone =>
        {
            ZoneFiles.Put(zone, "/small", small);
            ZoneFiles.Put(zone, "/big", big);
            ZoneFiles.Put(zone, "/sparse", sparse);
            StargateCli.RunChecked("truncate", zone.Path, "/sparse", "--size", "5M");
        });
        var (zone, guest) = (served.Zone, served.Guests[0]);

        // pwrite inside the file, then past its end up to the end of its second page.
        guest.Check(guest.Exec("sgfstest fill /mnt/small 100 3000 5")["written"] == "3000", "fill inside /small");
        guest.Check(guest.Exec("sgfstest fill /mnt/small 4000 4192 6")["written"] == "4192", "fill growing /small to 8192");
        Array.Resize(ref small, 8192);
        FillPattern.Write(5, 100, small.AsSpan(100, 3000));
        FillPattern.Write(6, 4000, small.AsSpan(4000, 4192));

        // Stores through a shared mapping, across the boundary of the two 2 MiB leaves.
        guest.Exec($"sgfstest mmfill /mnt/big {(2 << 20) - 100} 5000 7");
        FillPattern.Write(7, (2 << 20) - 100, big.AsSpan((2 << 20) - 100, 5000));

        AssertHostReads(guest, zone, "/small", small);
        AssertHostReads(guest, zone, "/big", big);
        guest.AssertReads("/mnt/small", FileSum.Of(small));
        guest.AssertReads("/mnt/big", FileSum.Of(big));

        // Into /sparse's hole: the pages come from the service, the bytes from the guest.
        guest.Check(guest.Exec("sgfstest fill /mnt/sparse 1048576 10 9")["written"] == "10", "fill inside /sparse's hole");
        Array.Resize(ref sparse, 5 << 20);
        FillPattern.Write(9, 1048576, sparse.AsSpan(1048576, 10));
        AssertHostReads(guest, zone, "/sparse", sparse);
        guest.Check(guest.Exec("stat -c size=%s /mnt/small")["size"] == "8192", "the guest sees /small at 8192 bytes");
        served.Finish();
    }

    private static void AssertHostReads(StargatefsGuest guest, TestZone zone, string path, byte[] expected)
    {
        byte[] got = ZoneFiles.Get(zone, path);
        int differs = got.AsSpan().CommonPrefixLength(expected);
        guest.Check(got.AsSpan().SequenceEqual(expected),
            $"stargate get {path}: {got.Length} bytes, expected {expected.Length}; first difference at byte {differs}");
    }
}
