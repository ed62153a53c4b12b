using Stargate.Host.Ivshmem;
using Stargate.Host.Zones;

namespace Stargate.Guests.Qemu;

/// <summary>
/// QEMU arguments for the devices the tests attach: the product's own (QemuArguments, what
/// `stargate qemu-args` prints), so the guests test exactly what operators are told to use:
/// the zone's data device first, then its read-only structure device, then (doorbell) the
/// device of the guest's private area.
/// </summary>
public static class QemuDevices
{
    /// <summary>ivshmem-plain over the zone's data file (share=on: without it guest writes never reach the file), and the structure device.</summary>
    public static IReadOnlyList<string> IvshmemPlain(string zonePath, string id = "zone0", bool readOnly = false) =>
        QemuArguments.For(Sizes(zonePath), AttachMode.Plain, socket: null, ServerLimits.DefaultVectors, id, readOnly);

    /// <summary>The data and structure devices, and ivshmem-doorbell through `stargate serve` listening on <paramref name="socket"/> (the guest's private area); the data device read-only when <paramref name="readOnly"/>.</summary>
    public static IReadOnlyList<string> IvshmemDoorbell(string zonePath, string socket, int vectors, string id = "zone0", bool readOnly = false) =>
        QemuArguments.For(Sizes(zonePath), AttachMode.Doorbell, socket, vectors, id, readOnly);

    /// <summary>A value inside a QEMU option list: a comma is written twice.</summary>
    public static string Value(string text) => QemuArguments.Value(text);

    /// <summary>The sizes of the zone's two files, as the file system has them (the zone is not opened: a service may hold it).</summary>
    private static ZoneSizes Sizes(string zonePath) =>
        new(zonePath, (ulong)new FileInfo(zonePath).Length, (ulong)new FileInfo(ZoneFiles.DataPath(zonePath)).Length);
}
