using System.Globalization;

namespace Stargate.IntegrationTests.Guest;

/// <summary>QEMU arguments for the devices the tests attach.</summary>
public static class QemuDevices
{
    /// <summary>
    /// ivshmem-plain over the zone file. share=on is essential: without it guest writes go to
    /// a private copy and never reach the file (FACTS.md).
    /// </summary>
    public static IReadOnlyList<string> IvshmemPlain(string zonePath, ulong zoneSize, string id = "zone0") =>
    [
        "-object", $"memory-backend-file,id={id},mem-path={Value(zonePath)},size={zoneSize.ToString(CultureInfo.InvariantCulture)},share=on",
        "-device", $"ivshmem-plain,memdev={id}",
    ];

    /// <summary>ivshmem-doorbell through an ivshmem server (stargate serve) listening on @socket.</summary>
    public static IReadOnlyList<string> IvshmemDoorbell(string socket, int vectors, string id = "zone0") =>
    [
        "-chardev", $"socket,path={Value(socket)},id={id}",
        "-device", $"ivshmem-doorbell,chardev={id},vectors={vectors.ToString(CultureInfo.InvariantCulture)}",
    ];

    /// <summary>A value inside a QEMU option list: a comma is written twice.</summary>
    public static string Value(string text) => text.Replace(",", ",,", StringComparison.Ordinal);
}
