using System.Globalization;
using Stargate.Host.Zones;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The QEMU arguments that attach a zone to a guest (zone format 2.1). First the data device,
/// ivshmem-plain over Z.data (share=on: without it guest writes never reach the file;
/// readonly=on for a read-only export, so that QEMU drops the guest's stores), then the
/// structure device, ivshmem-plain over Z with readonly=on, so that QEMU drops every store a
/// guest makes to the zone's structure. In doorbell mode a third device, ivshmem-doorbell on
/// the service's socket, whose memory is the guest's own private area (its request ring and
/// open table) that `stargate serve` makes for it and no other guest maps.
/// </summary>
public static class QemuArguments
{
    public static IReadOnlyList<string> For(ZoneSizes zone, AttachMode mode, string? socket, int vectors, string id = "stargate0", bool readOnly = false)
    {
        ServerLimits.CheckVectors(vectors);
        IEnumerable<string> doorbell = mode switch
        {
            AttachMode.Plain => [],
            _ =>
            [
                "-chardev", $"socket,path={Value(socket ?? throw new ArgumentNullException(nameof(socket), "the doorbell mode needs the server's socket"))},id={id}",
                "-device", $"ivshmem-doorbell,chardev={id},vectors={vectors.ToString(CultureInfo.InvariantCulture)}",
            ],
        };
        return [.. DataDevice(zone, id, readOnly), .. StructureDevice(zone, id), .. doorbell];
    }

    /// <summary>The ivshmem-plain device over the data file Z.data (read-only for a read-only export).</summary>
    public static IReadOnlyList<string> DataDevice(ZoneSizes zone, string id, bool readOnly) =>
        PlainDevice(ZoneFiles.DataPath(zone.Path), zone.DataFileSize, id, readOnly);

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
