using System.Security.Cryptography;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Support;

/// <summary>
/// Everything a user can see of a zone's tree, as sorted lines ("path type
/// mode size links sha256"), so two states compare with one Assert.Equal.
/// </summary>
public static class ZoneState
{
    /// <param name="modes">Include permission bits (a model without them compares without).</param>
    public static IReadOnlyList<string> Capture(Zone zone, bool modes = true)
    {
        var lines = new List<string>();
        Walk(zone, "/", lines, modes);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public static IReadOnlyList<string> Capture(string path)
    {
        using var zone = Zone.Open(path, ZoneAccess.ReadOnly);
        return Capture(zone);
    }

    private static void Walk(Zone zone, string dir, List<string> lines, bool modes)
    {
        foreach (var entry in zone.Names.ReadDirectory(zone.Names.Resolve(dir)))
        {
            string path = dir == "/" ? "/" + entry.Name : dir + "/" + entry.Name;
            var s = zone.Names.StatInode(entry.Ino);
            string mode = modes ? " " + Convert.ToString(s.Permissions, 8) : string.Empty;
            if (s.IsDirectory)
            {
                lines.Add($"{path} dir{mode} links={s.Nlink} entries={s.Entries}");
                Walk(zone, path, lines, modes);
                continue;
            }

            var data = new byte[s.Size];
            Assert.Equal((int)s.Size, zone.Files.Read(entry.Ino, 0, data));
            lines.Add($"{path} file{mode} size={s.Size} links={s.Nlink} sha256={Convert.ToHexString(SHA256.HashData(data))[..16]}");
        }
    }
}
