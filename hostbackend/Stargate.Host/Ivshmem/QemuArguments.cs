using System.Globalization;
using Stargate.Host.Zones;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The QEMU arguments that attach a zone to a guest: two ivshmem devices (zone format 2). The
/// data device comes first, so that it gets the guest's lower PCI address and mount index:
/// ivshmem-plain over Z.data (share=on: without it guest writes never reach the file), or
/// ivshmem-doorbell, which takes Z.data from `stargate serve` over its socket. Then the
/// structure device: ivshmem-plain over Z with readonly=on, so that QEMU drops every store a
/// guest makes to the zone's structure.
/// </summary>
public static class QemuArguments
{
    public static IReadOnlyList<string> For(ZoneSizes zone, AttachMode mode, string? socket, int vectors, string id = "stargate0")
    {
        ServerLimits.CheckVectors(vectors);
        IEnumerable<string> data = mode switch
        {
            AttachMode.Plain => PlainDevice(ZoneFiles.DataPath(zone.Path), zone.DataFileSize, id, readOnly: false),
            _ =>
            [
                "-chardev", $"socket,path={Value(socket ?? throw new ArgumentNullException(nameof(socket), "the doorbell mode needs the server's socket"))},id={id}",
                "-device", $"ivshmem-doorbell,chardev={id},vectors={vectors.ToString(CultureInfo.InvariantCulture)}",
            ],
        };
        return [.. data, .. StructureDevice(zone, id)];
    }

    /// <summary>The read-only ivshmem-plain device over the structure file Z.</summary>
    public static IReadOnlyList<string> StructureDevice(ZoneSizes zone, string id) =>
        PlainDevice(zone.Path, zone.ZoneSize, id + "-s", readOnly: true);

    /// <summary>The arguments as one line a shell takes back unchanged.</summary>
    public static string ShellLine(IEnumerable<string> args) => string.Join(' ', args.Select(ShellQuote));

    /// <summary>A value inside a QEMU option list: commas are doubled.</summary>
    public static string Value(string text) => text.Replace(",", ",,", StringComparison.Ordinal);

    /// <summary>The zone's file sizes, read from the zone itself (which also proves it is one).</summary>
    public static ZoneSizes Sizes(string zonePath)
    {
        using var zone = Zone.Open(zonePath, ZoneAccess.ReadOnly);
        return new ZoneSizes(zonePath, zone.Geometry.ZoneSize, zone.Geometry.DataFileSize);
    }

    private static string[] PlainDevice(string path, ulong size, string id, bool readOnly) =>
    [
        "-object", $"memory-backend-file,id={id},mem-path={Value(path)},size={size.ToString(CultureInfo.InvariantCulture)},share=on{(readOnly ? ",readonly=on" : string.Empty)}",
        "-device", $"ivshmem-plain,memdev={id}",
    ];

    private static string ShellQuote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_=,./:+@%".Contains(c))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>A zone's structure file (<see cref="Path"/>, <see cref="ZoneSize"/> bytes) and data file's size.</summary>
public sealed record ZoneSizes(string Path, ulong ZoneSize, ulong DataFileSize);
