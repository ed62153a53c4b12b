using System.Numerics;
using Stargate.Interop.Abi;
using static Stargate.Host.Zones.Format1.Format1Layout;

namespace Stargate.Host.Zones.Format1;

/// <summary>
/// `zone migrate OLD NEW`: reads a whole format 1 zone (<see cref="Format1Walk"/>, every record
/// checked before NEW exists), formats NEW as `zone create` does, and makes every name in it
/// through the host library's own write path, as uid 0: directories, regular files (allocated
/// ranges copied, holes left holes, the size set), symbolic links, fifos and sockets; names that
/// shared an inode become hard links of one inode. Then mode (set-id bits included), owner,
/// group, atime, mtime and ctime of every inode (ctime last, since each change before sets it).
/// btime, which format 1 does not record, becomes the time of the migration. All or nothing:
/// any failure removes NEW.
/// </summary>
internal static class Format1Migration
{
    /// <summary>The format 2 size for a format 1 zone of <paramref name="oldSize"/> bytes: the same, as a power of two in range.</summary>
    public static ulong DefaultSize(ulong oldSize) =>
        Math.Clamp(BitOperations.RoundUpToPowerOf2(oldSize), ZoneGeometry.MinSize, ZoneGeometry.MaxSize);

    /// <summary>
    /// Migrates; returns the tree it carried. NEW (and NEW.data) must not exist unless
    /// <paramref name="force"/>; OLD is only read. On failure nothing of NEW is left.
    /// </summary>
    public static Format1Tree Migrate(string oldPath, string newPath, ulong? size, bool force, uint? group)
    {
        string newData = ZoneFiles.DataPath(newPath);
        if (SameFile(oldPath, newPath) || SameFile(oldPath, newData))
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{newPath}: the new zone would overwrite the old zone {oldPath}; name another path");
        }

        if (!force && (File.Exists(newPath) || File.Exists(newData)))
        {
            throw new ZoneException(ZoneError.Exists, $"{(File.Exists(newPath) ? newPath : newData)} already exists; pass --force to format over it (its contents are lost)");
        }

        using var old = Format1Zone.Open(oldPath);
        var tree = new Format1Walk(old).Read();
        ulong dataSize = size ?? DefaultSize(old.ZoneSize);
        Zone.Format(newPath, dataSize, force, group);
        string current = "/";
        try
        {
            using var zone = Zone.Open(newPath, ZoneAccess.ReadWrite, "stargate zone migrate");
            Copy(old, tree, zone, path => current = path);
            return tree;
        }
        catch (ZoneException e) when (e.Error == ZoneError.NoSpace)
        {
            Remove(newPath);
            throw new ZoneException(ZoneError.NoSpace,
                $"{newPath}: no space left for {current} ({e.Message}); nothing was migrated and {newPath} was removed: give a larger --size (the old zone is {Units.Bytes(old.ZoneSize)})");
        }
        catch
        {
            Remove(newPath);
            throw;
        }
    }

    private static void Copy(Format1Zone old, Format1Tree tree, Zone zone, Action<string> at)
    {
        var c = Caller.Host;
        var made = new Dictionary<ulong, NodeRef> { [RootIno] = new(SgzAbi.RootIno, zone.Names.StatInode(SgzAbi.RootIno).Generation) };
        foreach (var entry in tree.Entries)
        {
            at(entry.Path);
            var dir = made[entry.ParentIno];
            if (made.TryGetValue(entry.Ino, out var existing))
            {
                zone.Names.Link(c, dir, entry.Name, existing);
                continue;
            }

            var node = tree.Nodes[entry.Ino];
            uint mode = node.Type | (node.Type == SIflnk ? 0x1ffu : 0x180u); // the real bits come last
            var created = zone.Names.MakeNode(c, dir, entry.Name, mode, node.Target);
            made[entry.Ino] = created;
            if (node.Type == SIfreg)
            {
                CopyData(old, node, zone, created.Ino);
            }
        }

        // Owners first (a new owner drops set-id bits), then the mode and the times, ctime last;
        // directories' times last of all their changes, since every name made in one set them.
        foreach (var entry in tree.Entries.Prepend(new Format1Entry("/", 0, [], RootIno)).DistinctBy(e => e.Ino))
        {
            at(entry.Path);
            var node = tree.Nodes[entry.Ino];
            var target = made[entry.Ino];
            zone.Files.SetAttributes(c, target, new AttributeChange(SgzAbi.AttrUid | SgzAbi.AttrGid, 0, node.Uid, node.Gid, 0, 0, 0));
            uint valid = SgzAbi.AttrAtime | SgzAbi.AttrMtime | (node.Type == SIflnk ? 0 : SgzAbi.AttrMode);
            zone.Files.SetAttributes(c, target, new AttributeChange(valid, node.Mode, node.Uid, node.Gid, 0, node.AtimeNs, node.MtimeNs));
            zone.Files.CarryCtime(target, node.CtimeNs);
        }
    }

    /// <summary>Writes each run of extents that follow each other in the file with one host write, then sets the size.</summary>
    private static void CopyData(Format1Zone old, Format1Node node, Zone zone, ulong ino)
    {
        var run = new List<Format1Extent>();
        foreach (var extent in node.Extents.Append(new Format1Extent(ulong.MaxValue, 0, 0)))
        {
            if (run.Count > 0 && run[^1].FileOffset + run[^1].Length != extent.FileOffset)
            {
                var source = new Format1Source(old, run);
                zone.Files.Write(ino, run[0].FileOffset, source.Length, source, null);
                run = [];
            }

            run.Add(extent);
        }

        if (zone.Names.StatInode(ino).Size < node.Size)
        {
            zone.Files.Truncate(ino, node.Size);
        }
    }

    private static void Remove(string newPath)
    {
        File.Delete(ZoneFiles.DataPath(newPath));
        File.Delete(newPath);
    }

    private static bool SameFile(string a, string b)
    {
        static string Canonical(string path)
        {
            var info = new FileInfo(Path.GetFullPath(path));
            return info.Exists && info.ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : info.FullName;
        }

        return Canonical(a) == Canonical(b);
    }
}
