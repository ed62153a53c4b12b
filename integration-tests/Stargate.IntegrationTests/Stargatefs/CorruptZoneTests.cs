using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Stargate.Interop.Abi;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Everything a guest reads from the zone is untrusted: a page-table entry pointing outside
/// the zone or an inode whose crc is wrong fails that operation with EIO and a kernel log
/// line, and the kernel stays healthy (other files read fine; a WARN or oops would panic the
/// guest); a superblock with a bad magic or crc is refused at mount with EINVAL.
/// </summary>
public sealed class CorruptZoneTests(ITestOutputHelper output)
{
    /// <summary>A present, writable entry whose frame is far past any zone.</summary>
    private const ulong OutsideTheZone = 0x7ffffffff000UL | SgzAbi.PtePresent | SgzAbi.PteWritable;

    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void CorruptMetadata_FailsThatOperationWithEio_OthersStillWork(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var zone = TestZone.InShm();
        byte[] good = HostData.Random(4097, 31);
        ZoneFiles.Put(zone, "/good", good);
        ZoneFiles.Put(zone, "/bad-page", HostData.Random(5000, 32));
        ZoneFiles.Put(zone, "/bad-chunk", HostData.Random(3 << 20, 33));
        ZoneFiles.Put(zone, "/bad-crc", HostData.Random(3000, 34));
        byte[] late = HostData.Random(6000, 36);
        ZoneFiles.Put(zone, "/bad-later", late);

        // Before the guest mounts: nothing of these files can be cached in it yet.
        ulong pte = ZoneTables.LeafEntryOffset(zone, ZoneFiles.Ino(zone, "/bad-page"), 4096);
        ulong pmd = ZoneTables.LeafEntryOffset(zone, ZoneFiles.Ino(zone, "/bad-chunk"), 0);
        ulong crcWord = ZoneTables.InodeOffset(zone, ZoneFiles.Ino(zone, "/bad-crc")) + ZoneTables.InodeCrcOffset - 4;
        zone.WriteU64(pte, OutsideTheZone);
        // A regular file's 2 MiB leaf into the structure pool (in range, but structure, never file data).
        zone.WriteU64(pmd, ZoneTables.Superblock(zone).Data.Offset | SgzAbi.PtePresent | SgzAbi.PteWritable | SgzAbi.PteHuge);
        zone.WriteU64(crcWord, zone.ReadU64(crcWord) ^ (0xdeadbeefUL << 32));

        using var guest = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(zone.Path), output);
        guest.MountZone(readOnly: true);

        string[] bad = ["/mnt/bad-page", "/mnt/bad-chunk", "/mnt/bad-crc"];
        foreach (string file in bad)
        {
            int before = guest.KernelLog("stargatefs").Count;
            guest.Check(guest.Fails($"sgfstest sum {file}") == "EIO", $"reading {file} fails with EIO");
            guest.Check(guest.KernelLog("stargatefs").Count > before, $"reading {file} logs a stargatefs line");
            guest.AssertReads("/mnt/good", FileSum.Of(good));
        }

        // Log lines are rate-limited: mappings are checked after every read has logged.
        foreach (string file in bad)
        {
            guest.Check(guest.Fails($"sgfstest mmsum {file}") is "EIO" or "SIGBUS", $"mapping {file} fails too");
            guest.AssertReads("/mnt/good", FileSum.Of(good));
        }

        // Garbage written after the guest has read and mapped the file (another guest can do
        // that at any time): the next read walks the table again and fails.
        guest.AssertReads("/mnt/bad-later", FileSum.Of(late));
        zone.WriteU64(ZoneTables.LeafEntryOffset(zone, ZoneFiles.Ino(zone, "/bad-later"), 0), OutsideTheZone);
        guest.Check(guest.Fails("sgfstest sum /mnt/bad-later") == "EIO", "reading /mnt/bad-later after its entry went bad fails with EIO");
        guest.AssertReads("/mnt/good", FileSum.Of(good));

        guest.Finish();
    }

    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void BadSuperblock_MountFailsWithEinvalAndOneLine_TheRepairedZoneMounts(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var zone = TestZone.InShm();
        byte[] good = HostData.Random(10_000, 35);
        ZoneFiles.Put(zone, "/good", good);
        ulong magic = zone.ReadU64(0);
        const ulong sealedByCrc = 264; // data_file_size, inside the bytes the superblock crc covers
        ulong sealedWord = zone.ReadU64(sealedByCrc);

        using var guest = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(zone.Path), output);
        guest.MountZone(readOnly: true);
        guest.AssertReads("/mnt/good", FileSum.Of(good));
        guest.Unmount();

        zone.WriteU64(0, magic ^ 0xff);
        AssertRefused(guest, "a bad magic");
        zone.WriteU64(0, magic);

        zone.WriteU64(sealedByCrc, sealedWord ^ 1);
        AssertRefused(guest, "a bad superblock crc");
        zone.WriteU64(sealedByCrc, sealedWord);

        guest.MountZone(readOnly: true);
        guest.AssertReads("/mnt/good", FileSum.Of(good));
        guest.Finish();
    }

    private static void AssertRefused(StargatefsGuest guest, string what)
    {
        int before = guest.KernelLog("zone refused").Count;
        guest.Check(guest.MountFails() == "EINVAL", $"mounting a zone with {what} fails with EINVAL");
        guest.Check(guest.KernelLog("zone refused").Count == before + 1, $"mounting a zone with {what} logs one 'zone refused' line");
    }
}
