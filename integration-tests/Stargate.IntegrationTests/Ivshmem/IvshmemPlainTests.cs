using System.Globalization;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Ivshmem;

/// <summary>
/// A zone attached with ivshmem-plain over memory-backend-file,share=on: no server, no
/// interrupts. Guests see the data file itself as the first device's BAR2, and every write is
/// visible to the other guests and to the host at once; the second device is the structure
/// file, read-only.
/// </summary>
public sealed class IvshmemPlainTests(ITestOutputHelper output)
{
    private const string Magic = "0x4554414752415453"; // "STARGATE", SGZ_MAGIC
    private const string DataMagic = "0x32415441445a4753"; // "SGZDATA2", SGZ_DATA_MAGIC

    [SkippableFact]
    public void PlainZone_GuestSeesTheDataDeviceThenTheStructureDevice()
    {
        GuestEnvironment.RequireOrSkip();
        using var zone = TestZone.InShm();
        // Script mode: the checks run at boot, results come back as STARGATE: lines.
        const string script = """
            set -e
            list=$(sgtool list)
            sg_say "kind=$(echo "$list" | sg_value kind)"
            sg_say "bar1=$(echo "$list" | sg_value bar1)"
            sg_say "list_bar2_size=$(echo "$list" | sg_value bar2_size)"
            sgtool info "$SG_DEV" | sed 's/^/STARGATE: /'
            sgtool info "$(echo "$SG_DEVS" | sed -n 2p)" | sed 's/^/STARGATE: structure_/'
            """;
        using var guest = QemuGuest.Start(new GuestOptions
        {
            Devices = QemuDevices.IvshmemPlain(zone.Path),
            Script = script,
            Interactive = false,
        }, output.WriteLine);

        Assert.Equal("2", guest.WaitFor("devices"));
        Assert.Equal("plain", guest.WaitFor("kind"));
        Assert.Equal("none", guest.WaitFor("bar1"));
        Assert.Equal(Size(zone), guest.WaitFor("list_bar2_size"));
        Assert.Equal("0", guest.WaitFor("ivposition"));
        Assert.Equal(Size(zone), guest.WaitFor("bar2_size"));
        Assert.Equal(DataMagic, guest.WaitFor("magic"));
        Assert.Equal(zone.StructureSize.ToString(CultureInfo.InvariantCulture), guest.WaitFor("structure_bar2_size"));
        Assert.Equal(Magic, guest.WaitFor("structure_magic"));
        Assert.Equal(zone.StructureSize.ToString(CultureInfo.InvariantCulture), guest.WaitFor("structure_zone_size"));
        Assert.Equal("0", guest.WaitFor("script"));
        guest.WaitFor("done");
        Assert.Equal(0, guest.WaitForExit());
        output.WriteLine($"boot to init: {guest.BootTime?.TotalSeconds:0.00} s");
    }

    [SkippableFact]
    public void PlainZone_TwoGuests_SeeEachOthersAndTheHostsWrites()
    {
        GuestEnvironment.RequireOrSkip();
        using var zone = TestZone.InShm();
        var devices = QemuDevices.IvshmemPlain(zone.Path);
        using var a = QemuGuest.Start(new GuestOptions { Devices = devices }, output.WriteLine);
        using var b = QemuGuest.Start(new GuestOptions { Devices = devices }, output.WriteLine);

        // The last 256 bytes of the data file (BAR2 offsets), inside its last data chunk.
        ulong fromA = zone.Size - 64, fromB = zone.Size - 128, fromHost = zone.Size - 192;
        a.Exec($"sgtool write $SG_DEV {fromA} 0x1122334455667788");
        Assert.Equal("0x1122334455667788", b.Exec($"sgtool read $SG_DEV {fromA}")["value"]);
        Assert.Equal(0x1122334455667788UL, zone.ReadU64(InData(zone, fromA)));

        b.Exec($"sgtool write $SG_DEV {fromB} 0xa5a5a5a5deadbeef");
        Assert.Equal("0xa5a5a5a5deadbeef", a.Exec($"sgtool read $SG_DEV {fromB}")["value"]);
        Assert.Equal(0xa5a5a5a5deadbeefUL, zone.ReadU64(InData(zone, fromB)));

        zone.WriteU64(InData(zone, fromHost), 0x0123456789abcdefUL);
        Assert.Equal("0x0123456789abcdef", a.Exec($"sgtool read $SG_DEV {fromHost}")["value"]);
        Assert.Equal("0x0123456789abcdef", b.Exec($"sgtool read $SG_DEV {fromHost}")["value"]);

        Assert.Equal(0, a.Shutdown());
        Assert.Equal(0, b.Shutdown());
    }

    [SkippableFact]
    public void PlainZoneOnADiskFile_WorksAsInDevShm()
    {
        GuestEnvironment.RequireOrSkip();
        using var zone = TestZone.In(RepoPaths.Artifacts("integration-zones"));
        using var guest = QemuGuest.Start(new GuestOptions { Devices = QemuDevices.IvshmemPlain(zone.Path) }, output.WriteLine);

        var info = guest.Exec("sgtool info $SG_DEV");
        Assert.Equal(Size(zone), info["bar2_size"]);
        Assert.Equal(DataMagic, info["magic"]);

        guest.Exec($"sgtool write $SG_DEV {zone.Size - 8} 0x0badc0ffee0ddf00");
        Assert.Equal(0x0badc0ffee0ddf00UL, zone.ReadU64(InData(zone, zone.Size - 8)));
        Assert.Equal(0, guest.Shutdown());
    }

    [SkippableFact]
    public void PlainZoneOnHugetlbfs_TwoGuestsShareIt_WithTheHost()
    {
        GuestEnvironment.RequireOrSkip();
        // Both files of the zone: the data file and a structure file no larger than it.
        using var huge = HugetlbfsMount.Create(2 * TestZone.DefaultSize);
        using var zone = TestZone.In(huge.Path);
        var devices = QemuDevices.IvshmemPlain(zone.Path);
        using var a = QemuGuest.Start(new GuestOptions { Devices = devices }, output.WriteLine);
        using var b = QemuGuest.Start(new GuestOptions { Devices = devices }, output.WriteLine);

        var info = b.Exec("sgtool info $SG_DEV");
        Assert.Equal(Size(zone), info["bar2_size"]);
        Assert.Equal(DataMagic, info["magic"]);
        a.Exec($"sgtool write $SG_DEV {zone.Size - 8} 0x4855474550414745");
        Assert.Equal("0x4855474550414745", b.Exec($"sgtool read $SG_DEV {zone.Size - 8}")["value"]);
        Assert.Equal(0x4855474550414745UL, zone.ReadU64(InData(zone, zone.Size - 8)));
        Assert.Equal(0, a.Shutdown());
        Assert.Equal(0, b.Shutdown());
    }

    [SkippableFact]
    public void QemuArgsFromTheCli_PlainMode_AttachTheZone()
    {
        GuestEnvironment.RequireOrSkip();
        using var zone = TestZone.InShm();
        var args = StargateCli.RunChecked("qemu-args", zone.Path, "--mode", "plain", "--id", "sg0").Stdout.Trim();
        using var guest = QemuGuest.Start(new GuestOptions { Devices = ShellWords(args) }, output.WriteLine);

        var list = guest.Exec("sgtool list");
        Assert.Equal("2", list["count"]);
        Assert.Equal("plain", list["kind"]);
        Assert.Equal(DataMagic, guest.Exec("sgtool info $SG_DEV")["magic"]);
        Assert.Equal(Magic, guest.Exec("sgtool info $(echo \"$SG_DEVS\" | sed -n 2p)")["magic"]);
        Assert.Equal(0, guest.Shutdown());
    }

    private static string Size(TestZone zone) => zone.Size.ToString(CultureInfo.InvariantCulture);

    /// <summary>The zone offset of byte @offset of the data file (its BAR2 offset in a guest).</summary>
    private static ulong InData(TestZone zone, ulong offset) => zone.StructureSize + offset;

    /// <summary>`stargate qemu-args` prints plain words here: test paths need no quoting.</summary>
    internal static string[] ShellWords(string line)
    {
        Assert.DoesNotContain("'", line, StringComparison.Ordinal);
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
