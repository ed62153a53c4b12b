using System.Globalization;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Shared mappings are the zone itself (DAX): a store by the host into the zone file, or by
/// another guest through its own mapping, is seen by a guest's mapped file at once, with no
/// msync; and a file's 2 MiB-aligned chunks are mapped with one PMD each.
/// </summary>
public sealed class MmapTests(ITestOutputHelper output)
{
    private const ulong FromHost = 0x486f737453746f72;   // "rotSstoH"
    private const ulong FromA = 0x4775657374410001;
    private const ulong FromB = 0x4775657374420002;

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void MappedFile_SeesStoresOfTheHostAndOfAnotherGuest_AndTheHostSeesTheirs(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output, zone => ZoneFiles.Put(zone, "/shared", new byte[64 << 10]));
        var zone = served.Zone;
        ulong at = ZoneFiles.ZoneOffset(zone, "/shared", 0);
        var (a, b) = (served.Guests[0], served.Guests[1]);

        // The host stores into the zone file where the file's first bytes are.
        string wait = a.Background($"sgfstest mmwait /mnt/shared 0 {Hex(FromHost)} 60000", "mapped=1");
        zone.WriteU64(at, FromHost);
        AssertSeen(a, wait, FromHost);

        // A stores through its mapping: B's mapping and the host see it.
        wait = b.Background($"sgfstest mmwait /mnt/shared 8 {Hex(FromA)} 60000", "mapped=1");
        a.Exec($"sgfstest mmpoke /mnt/shared 8 {Hex(FromA)}");
        AssertSeen(b, wait, FromA);
        a.Check(zone.ReadU64(at + 8) == FromA, $"the host reads A's store at zone offset 0x{at + 8:x}");
        a.Check(BitConverter.ToUInt64(ZoneFiles.Get(zone, "/shared"), 8) == FromA, "stargate get shows A's store");

        // And the other way round.
        wait = a.Background($"sgfstest mmwait /mnt/shared 16 {Hex(FromB)} 60000", "mapped=1");
        b.Exec($"sgfstest mmpoke /mnt/shared 16 {Hex(FromB)}");
        AssertSeen(a, wait, FromB);
        b.Check(zone.ReadU64(at + 16) == FromB, "the host reads B's store");

        // read(2) goes to the zone too: both guests read all three stores.
        byte[] expected = new byte[64 << 10];
        BitConverter.TryWriteBytes(expected.AsSpan(0), FromHost);
        BitConverter.TryWriteBytes(expected.AsSpan(8), FromA);
        BitConverter.TryWriteBytes(expected.AsSpan(16), FromB);
        a.Check(a.Sum("/mnt/shared") == FileSum.Of(expected), "A reads the three stores with read(2)");
        b.Check(b.Sum("/mnt/shared") == FileSum.Of(expected), "B reads the three stores with read(2)");

        served.Finish();
    }

    /// <summary>
    /// An 8 MiB file put by the host is four 2 MiB leaves; populating a shared mapping of it
    /// takes one fault per chunk (a PMD each), where a file of 4 KiB pages takes one per page.
    /// smaps is printed for the record only: it does not count these device pages (seen on
    /// 6.1 and 6.12: FilePmdMapped 0 kB, Rss 16 kB and 0 kB for the populated 8 MiB mapping).
    /// </summary>
    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void AlignedChunks_AreMappedWithOnePmdEach(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var zone = TestZone.InShm();
        ZoneFiles.Put(zone, "/huge", HostData.Random(8 << 20, 21));
        ZoneFiles.Put(zone, "/pages", HostData.Random(1 << 20, 22));
        var extents = ZoneFiles.Extents(zone, "/huge");
        Assert.All(extents, e => Assert.True(e.Huge && e.ZoneOffset % (2 << 20) == 0, $"a 2 MiB-aligned leaf: {e}"));

        using var guest = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(zone.Path), output);
        guest.MountZone(readOnly: true);
        var huge = guest.Exec("sgfstest mmhuge /mnt/huge");
        var pages = guest.Exec("sgfstest mmhuge /mnt/pages");
        output.WriteLine($"{kernel}: huge: {string.Join(' ', huge.Lines)}");
        output.WriteLine($"{kernel}: pages: {string.Join(' ', pages.Lines)}");

        guest.Check(huge["aligned"] == "1", $"the mapping of /mnt/huge starts on a 2 MiB boundary: {huge}");
        guest.Check(Number(huge, "faults") <= Number(huge, "chunks") + 4, $"one fault per 2 MiB chunk of /mnt/huge: {huge}");
        guest.Check(Number(pages, "faults") >= Number(pages, "pages"), $"one fault per 4 KiB page of /mnt/pages (the measure tells them apart): {pages}");
        guest.Finish();
    }

    private static void AssertSeen(StargatefsGuest guest, string wait, ulong value)
    {
        var reply = guest.Join(wait);
        guest.Check(reply.ExitCode == 0 && reply.Find("seen") == "1" && reply.Find("value") == Hex(value),
            $"mmwait saw {Hex(value)}: {reply}");
    }

    private static long Number(GuestReply reply, string key) => long.Parse(reply[key], CultureInfo.InvariantCulture);

    private static string Hex(ulong value) => "0x" + value.ToString("x16", CultureInfo.InvariantCulture);
}
