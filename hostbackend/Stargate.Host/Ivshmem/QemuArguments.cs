using System.Globalization;
using Stargate.Host.Zones;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The QEMU arguments that attach a zone to a guest. ivshmem-plain maps the zone
/// file itself (share=on: without it guest writes never reach the file); the
/// doorbell device takes the zone from `stargate serve` over its socket.
/// </summary>
public static class QemuArguments
{
    public static IReadOnlyList<string> For(string zonePath, ulong zoneSize, AttachMode mode, string? socket, int vectors, string id = "stargate0")
    {
        ServerLimits.CheckVectors(vectors);
        return mode switch
        {
            AttachMode.Plain =>
            [
                "-object", $"memory-backend-file,id={id},mem-path={Value(zonePath)},size={zoneSize.ToString(CultureInfo.InvariantCulture)},share=on",
                "-device", $"ivshmem-plain,memdev={id}",
            ],
            _ =>
            [
                "-chardev", $"socket,path={Value(socket ?? throw new ArgumentNullException(nameof(socket), "the doorbell mode needs the server's socket"))},id={id}",
                "-device", $"ivshmem-doorbell,chardev={id},vectors={vectors.ToString(CultureInfo.InvariantCulture)}",
            ],
        };
    }

    /// <summary>The arguments as one line a shell takes back unchanged.</summary>
    public static string ShellLine(IEnumerable<string> args) => string.Join(' ', args.Select(ShellQuote));

    /// <summary>A value inside a QEMU option list: commas are doubled.</summary>
    public static string Value(string text) => text.Replace(",", ",,", StringComparison.Ordinal);

    private static string ShellQuote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_=,./:+@%".Contains(c))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The zone's size, read from the zone itself (which also proves it is one).</summary>
    public static ulong ZoneSize(string zonePath)
    {
        using var zone = Zone.Open(zonePath, ZoneAccess.ReadOnly);
        return zone.Geometry.ZoneSize;
    }
}
