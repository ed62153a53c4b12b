using System.Globalization;
using Stargate.Guests.Qemu;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Stargate.Interop.Abi;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Zone format 2: a guest cannot change the zone's structure, whatever it stores where, because
/// QEMU maps the structure file read-only (docs/security.md); and what a guest may write about a
/// file (its size hint) never reaches past the space the host gave that file.
/// </summary>
public sealed class StructureProtectionTests(ITestOutputHelper output)
{
    private const ulong Poison = 0xdeadbeefdeadbeefUL;

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void GuestStoresToTheStructure_AreDropped_AndAForgedSizeHintStopsAtTheAllocation(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output, zone =>
        {
            StargateCli.RunChecked("mkdir", zone.Path, "/dir");
            ZoneFiles.Put(zone, "/dir/file", [1, 2, 3, 4, 5]);
        });
        var guest = served.Guests[0];
        var zone = served.Zone;
        var sb = ZoneTables.Superblock(zone);

        // The hostile guest runs no stargatefs: it stores into its devices' BARs itself. Its
        // second ivshmem device is the structure file, read-only.
        var hostile = served.AddGuest(mount: false);
        string structure = hostile.Exec("echo \"dev=$(echo \"$SG_DEVS\" | sed -n 2p)\"")["dev"];
        var info = hostile.Exec($"sgtool info {structure}");
        hostile.Check(info["bar2_size"] == zone.StructureSize.ToString(CultureInfo.InvariantCulture),
            $"the second device's BAR2 is the structure file ({zone.StructureSize} bytes): {info.Text}");

        // Everything a hostile guest once rewrote to hurt others: the superblock, a directory's
        // size, the journal, the peer table, the lock table, a page-table root.
        ulong dirInode = ZoneTables.InodeOffset(zone, ZoneFiles.Ino(zone, "/dir"));
        ulong fileInode = ZoneTables.InodeOffset(zone, ZoneFiles.Ino(zone, "/dir/file"));
        var targets = new (string What, ulong Offset)[]
        {
            ("the superblock's magic", 0),
            ("the superblock's free page count", 384),
            ("a directory's size", dirInode + 136),
            ("a directory's mode and owner", dirInode),
            ("a file's page-table root", fileInode + 32),
            ("the journal header", sb.Journal.Offset + 8),
            ("the host's peer slot", sb.PeerTable.Offset),
            ("the first lock slot", sb.LockTable.Offset),
        };
        foreach (var (what, offset) in targets)
        {
            ulong before = zone.ReadU64(offset);
            hostile.Exec($"sgtool write {structure} {offset} {Poison}");
            string after = hostile.Exec($"sgtool read {structure} {offset}")["value"];
            hostile.Check(after == $"0x{before:x16}", $"{what}: the guest reads back the old value 0x{before:x16} after its store: {after}");
            hostile.Check(zone.ReadU64(offset) == before, $"{what}: the host's structure file is unchanged");
        }

        // A forged size hint for /dir/file (5 bytes, one page allocated): the size a reader takes
        // never passes the file's allocation, in the guest or on the host.
        ulong ino = ZoneFiles.Ino(zone, "/dir/file");
        var inode = ZoneTables.Inode(zone, ino);
        hostile.Check(inode.AllocEnd >= 4096 && inode.AllocEnd < 1UL << 40, $"the host's put gave /dir/file at least a page (alloc_end {inode.AllocEnd})");
        ulong hint = sb.Hints.Offset + (ino * SgzAbi.HintSize);
        string data = hostile.Exec("echo \"dev=$SG_DEV\"")["dev"];
        ulong inData = hint - sb.ZoneSize;
        hostile.Exec($"sgtool write {data} {inData + 8} {(ulong)inode.Generation << 32}");
        hostile.Exec($"sgtool write {data} {inData + 16} {1UL << 40}");
        string size = guest.Exec("stat -c size=%s /mnt/dir/file")["size"];
        guest.Check(size == inode.AllocEnd.ToString(CultureInfo.InvariantCulture),
            $"a size hint of 1 TiB shows as the allocation's end {inode.AllocEnd}, not more: {size}");
        using (var stat = System.Text.Json.JsonDocument.Parse(served.Host("stat", "/dir/file", "--json")))
        {
            ulong hostSize = stat.RootElement.GetProperty("size").GetUInt64();
            guest.Check(hostSize == inode.AllocEnd, $"the host takes the same clamped size: {hostSize}");
        }

        var sum = guest.Exec("sgfstest sum /mnt/dir/file");
        guest.Check(sum["size"] == inode.AllocEnd.ToString(CultureInfo.InvariantCulture), $"a read ends at the allocation: {sum.Text}");

        // Each guest's requests are in its own private area: the hostile guest's doorbell device is
        // its own area (its slot, not the victim's), and no device of it holds the victim's.
        string bell = hostile.Exec("echo \"dev=$SG_BELL\"")["dev"];
        var own = hostile.Exec($"sgtool info {bell}");
        hostile.Check(own["bar2_size"] == "65536" && own["magic"] == $"0x{SgzAbi.AreaMagic:x16}", $"its doorbell device is a private area: {own.Text}");
        int hostileSlot = int.Parse(own["ivposition"], CultureInfo.InvariantCulture);
        var guestSlots = served.Server.Peers().Select(p => p.Id).Where(id => id != 0).ToList();
        hostile.Check(guestSlots.Count == 2 && guestSlots.Contains(hostileSlot), $"the hostile guest is one of the two guests, with its own slot {hostileSlot}: {string.Join(',', guestSlots)}");
        ulong versionAndSlot = ((ulong)hostileSlot << 32) | ((ulong)SgzAbi.VersionMinor << 16) | SgzAbi.VersionMajor;
        hostile.Check(hostile.Exec($"sgtool read {bell} 8")["value"] == $"0x{versionAndSlot:x16}", "its area names its own slot");

        // A served guest whose data device is read-only (qemu-args --read-only), though its socket
        // is read-write, stores nothing into file data, and its module refuses a read-write mount
        // (its probe store is dropped); read-only, it reads.
        var readOnlyData = QemuDevices.IvshmemDoorbell(zone.Path, served.Server.SocketPath, served.Server.Vectors, readOnly: true);
        using (var reader = StargatefsGuest.Start(served.Kernel, readOnlyData, output, load: false))
        {
            ulong before = zone.ReadU64(hint + 24);
            reader.Exec($"sgtool write $SG_DEV {inData + 24} {Poison}");
            reader.Check(zone.ReadU64(hint + 24) == before, "a store to the read-only data device does not reach Z.data");
            reader.Insmod();
            reader.Check(reader.MountFails() == "EROFS", "a read-write mount of a read-only data device is refused");
            reader.Check(reader.KernelLog("the data device drops stores").Count == 1, "because its probe store was dropped");
            reader.MountZone(readOnly: true);
            reader.Check(reader.Exec("ls /mnt/dir").Text == "file", "mounted read-only, it reads the zone");
            reader.Finish();
        }

        // The zone is whole: the other guest goes on working, and fsck (in Finish) finds nothing.
        guest.Exec("mkdir /mnt/after && echo ok > /mnt/after/f && ls /mnt/dir && truncate -s 5 /mnt/dir/file");
        served.AssertHostReads("/after/f", "ok\n");
        served.Finish();
    }
}
