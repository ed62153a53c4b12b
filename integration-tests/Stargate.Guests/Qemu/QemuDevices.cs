using Stargate.Host.Ivshmem;

namespace Stargate.Guests.Qemu;

/// <summary>
/// QEMU arguments for the devices the tests attach: the product's own (QemuArguments, what
/// `stargate qemu-args` prints), so the guests test exactly what operators are told to use.
/// </summary>
public static class QemuDevices
{
    /// <summary>ivshmem-plain over the zone file (share=on: without it guest writes never reach the file).</summary>
    public static IReadOnlyList<string> IvshmemPlain(string zonePath, ulong zoneSize, string id = "zone0") =>
        QemuArguments.For(zonePath, zoneSize, AttachMode.Plain, socket: null, ServerLimits.DefaultVectors, id);

    /// <summary>ivshmem-doorbell through `stargate serve` listening on <paramref name="socket"/>.</summary>
    public static IReadOnlyList<string> IvshmemDoorbell(string socket, int vectors, string id = "zone0") =>
        QemuArguments.For(string.Empty, 0, AttachMode.Doorbell, socket, vectors, id);

    /// <summary>A value inside a QEMU option list: a comma is written twice.</summary>
    public static string Value(string text) => QemuArguments.Value(text);
}
