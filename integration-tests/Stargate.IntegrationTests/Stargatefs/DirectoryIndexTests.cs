using Zone = Stargate.Host.Zones.Zone;
using ZoneAccess = Stargate.Host.Zones.ZoneAccess;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// The directory index (format 2.2) from guests: a directory of 3,500 entries (the test zone has 4,096
/// inodes) made by the host and one guest is looked up name by name from another guest (each lookup through the index:
/// that guest has cached none of them), a readdir that runs while another guest creates and
/// deletes returns every entry that stayed exactly once, and a corrupt or hostile index gives
/// EIO, never a hang.
/// </summary>
public sealed class DirectoryIndexTests(ITestOutputHelper output)
{
    /// <summary>sgz_inode.index_root's offset in the inode.</summary>
    private const ulong IndexRootOffset = 88;

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void ALargeDirectory_IsFoundNameByNameFromAnotherGuest_AndReaddirSeesEachStableEntryOnce(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output, prepare: zone =>
        {
            using var z = Zone.Open(zone.Path, ZoneAccess.ReadWrite, "stargate integration test");
            z.Names.MakeDirectory("/big");
            for (int i = 0; i < 1000; i++)
            {
                z.Names.CreateFile($"/big/h{i}");
            }
        });
        var (a, b) = (served.Guests[0], served.Guests[1]);

        // In a shell of its own: a failed redirection ends the shell that runs it.
        a.Exec("sh -c 'cd /mnt/big && i=0 && while [ $i -lt 2500 ]; do : > a$i || exit 1; i=$((i+1)); done'");
        b.Check(b.Exec("ls /mnt/big | wc -l").Text == "3500", "B lists 3,500 entries");
        b.Check(b.Exec("sh -c 'cd /mnt/big && i=0 && while [ $i -lt 2500 ]; do [ -e a$i ] || echo missing a$i; [ $i -ge 1000 ] || [ -e h$i ] || echo missing h$i; i=$((i+1)); done'").Text.Length == 0,
            "B finds every name, one lookup at a time");
        b.Check(b.Fails("sgfstest sum /mnt/big/a2500") == "ENOENT" && b.Fails("sgfstest sum /mnt/big/h1000") == "ENOENT", "names never made are not found");

        // B makes and removes names (c*) while A reads the directory, several getdents calls a listing.
        string churn = b.Background("sh -c 'echo started=1; i=0; while [ $i -lt 1500 ]; do : > /mnt/big/c$i || exit 1; [ $i -lt 3 ] || rm /mnt/big/c$((i-3)) || exit 1; i=$((i+1)); done'", "started=1");
        for (int round = 0; round < 4; round++)
        {
            // ls stats each name it reads: a c* name B removed meanwhile gives an error line (dropped).
            var listing = a.Exec("ls -1a /mnt/big 2>/dev/null | grep -v -e '^c' -e '^\\.'").Lines;
            a.Check(listing.Count == 3500 && listing.Distinct(StringComparer.Ordinal).Count() == 3500,
                $"listing {round} during B's creates and deletes holds each of the 3,500 stable entries once ({listing.Count} lines, {listing.Distinct(StringComparer.Ordinal).Count()} distinct)");
        }

        var joined = b.Join(churn);
        b.Check(joined.ExitCode == 0, $"B's creates and deletes ran to the end: {joined.Text}");
        a.Check(a.Exec("ls /mnt/big | grep -c '^c'").Text == "3", "the last three of B's names are left");
        a.Exec("rm -r /mnt/big");
        served.Finish();
    }

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void ACorruptOrHostileIndex_FailsTheLookupWithEio_NeverHangs(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var zone = TestZone.InShm();
        using (var z = Zone.Open(zone.Path, ZoneAccess.ReadWrite, "stargate integration test"))
        {
            foreach (string dir in new[] { "/outside", "/loop", "/slot", "/good" })
            {
                z.Names.MakeDirectory(dir);
                for (int i = 0; i < 40; i++)
                {
                    z.Names.CreateFile($"{dir}/f{i}");
                }
            }
        }

        ulong Root(string dir) => zone.ReadU64(ZoneTables.InodeOffset(zone, ZoneFiles.Ino(zone, dir)) + IndexRootOffset);
        ulong Bucket0(ulong root) => (zone.ReadU64(root + 64) & 0xffffffff) << 12;

        // Root entry 0 names page 1 (the journal: outside the structure pool).
        ulong outside = Root("/outside");
        zone.WriteU64(outside + 64, (zone.ReadU64(outside + 64) & ~0xffffffffUL) | 1);
        // The bucket's count is 0 and its overflow link names itself: a cycle.
        ulong loop = Bucket0(Root("/loop"));
        zone.WriteU64(loop, zone.ReadU64(loop) & 0x0000ffffffffffffUL);
        zone.WriteU64(loop + 8, loop >> 12);
        // Every pair's slot moved past the directory's slots.
        ulong slot = Bucket0(Root("/slot"));
        for (ulong p = 0; p < 40; p++)
        {
            ulong at = slot + 16 + (p * 8);
            zone.WriteU64(at, (zone.ReadU64(at) & 0xffffffffUL) | (0x7fffffffUL << 32));
        }

        using var guest = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(zone.Path), output);
        guest.MountZone(readOnly: true);
        foreach (string dir in new[] { "/mnt/outside", "/mnt/loop", "/mnt/slot" })
        {
            int before = guest.KernelLog("corrupt index").Count;
            guest.Check(guest.Fails($"sgfstest sum {dir}/f7") == "EIO", $"a lookup in {dir} fails with EIO");
            guest.Check(guest.KernelLog("corrupt index").Count > before, $"the lookup in {dir} logs the corrupt index");
            // A shell glob reads the directory without a lookup of each name (ls would stat them).
            guest.Check(guest.Exec($"sh -c 'set -- {dir}/*; echo $#'").Text == "40", $"readdir of {dir} still lists its 40 entries (it reads the pages)");
            guest.Check(guest.Exec("stat -c %s /mnt/good/f7").Text == "0", "a lookup in a sound directory works");
        }

        guest.Finish();
    }
}
