using System.Security.Cryptography;
using Stargate.Host.Zone;

namespace Stargate.Host.Tests.Support;

/// <summary>
/// Everything a user can see of a zone's tree, as sorted lines ("path type
/// mode size links sha256"), so two states compare with one Assert.Equal.
/// </summary>
public static class ZoneState
{
    public static IReadOnlyList<string> Capture(Zone.Zone zone)
    {
        var lines = new List<string>();
        Walk(zone, "/", lines);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public static IReadOnlyList<string> Capture(string path)
    {
        using var zone = Zone.Zone.Open(path, ZoneAccess.ReadOnly);
        return Capture(zone);
    }

    private static void Walk(Zone.Zone zone, string dir, List<string> lines)
    {
        foreach (var entry in zone.ReadDirectory(zone.Resolve(dir)))
        {
            string path = dir == "/" ? "/" + entry.Name : dir + "/" + entry.Name;
            var s = zone.StatInode(entry.Ino);
            if (s.IsDirectory)
            {
                lines.Add($"{path} dir {Convert.ToString(s.Permissions, 8)} links={s.Nlink} entries={s.Entries}");
                Walk(zone, path, lines);
                continue;
            }

            var data = new byte[s.Size];
            Assert.Equal((int)s.Size, zone.Read(entry.Ino, 0, data));
            lines.Add($"{path} file {Convert.ToString(s.Permissions, 8)} size={s.Size} links={s.Nlink} sha256={Convert.ToHexString(SHA256.HashData(data))[..16]}");
        }
    }
}
