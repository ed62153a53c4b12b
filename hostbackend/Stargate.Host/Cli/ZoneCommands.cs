using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Stargate.Host.Fsck;
using Stargate.Host.Zones;
using Stargate.Host.Zones.Format1;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>`stargate zone create|info|fsck|rm|migrate`: a zone is two files, Z and Z.data (ZoneFiles.DataPath).</summary>
internal sealed class ZoneCommands(CliSession session)
{
    public Command Create()
    {
        var zone = new Command("zone", "Create, inspect and check zone files.");
        zone.Subcommands.Add(CreateCommand());
        zone.Subcommands.Add(InfoCommand());
        zone.Subcommands.Add(FsckCommand());
        zone.Subcommands.Add(RmCommand());
        zone.Subcommands.Add(MigrateCommand());
        return zone;
    }

    private Command CreateCommand()
    {
        var path = new Argument<string>("path") { Description = "Zone file to create (in /dev/shm, on hugetlbfs, or on a DAX file system)." };
        var size = new Option<string>("--size") { Description = "Zone size (the data file's, PATH.data): a power of two from 16M to 1T (suffixes K, M, G, T; binary). The structure file PATH is sized for it.", Required = true };
        var force = new Option<bool>("--force") { Description = "Format over existing files (their contents are lost)." };
        var group = new Option<string?>("--group") { Description = "A group (name or gid) given read-write access (mode 0660), as QEMU's user's group; without it the zone is 0600." };
        var ifMissing = new Option<bool>("--if-missing") { Description = "Do nothing when PATH is a zone already (a service unit's start after a reboot emptied /dev/shm, or not)." };
        var command = new Command("create", "Format a new zone: PATH (structure) and PATH.data (data), mode 0600, or 0660 with --group.") { path, size, force, group, ifMissing };
        command.SetAction(r => session.Guard(() =>
        {
            if (ParseSize(r.GetValue(size)!, "zone create", out ulong bytes) is { } badSize)
            {
                return badSize;
            }

            if (ParseGroup(r.GetValue(group), "zone create", out uint? gid) is { } badGroup)
            {
                return badGroup;
            }

            string file = r.GetValue(path)!;
            if (r.GetValue(ifMissing) && r.GetValue(force))
            {
                return session.BadUsage("--if-missing and --force contradict each other", "zone create");
            }

            if (r.GetValue(ifMissing) && File.Exists(file))
            {
                // It must be a zone: one that does not open says why, and nothing is formatted over it.
                using var existing = ZoneOpener.Open(file, ZoneAccess.ReadOnly, "zone create");
                session.Out.WriteLine($"{file} is a zone already ({Units.Bytes(existing.Summarize().DataFileSize)} of data): left as it is");
                return StargateCli.Ok;
            }

            var geometry = Zone.Format(file, bytes, r.GetValue(force), gid);
            ulong dataChunks = geometry.ChunkCount - geometry.FirstDataChunk;
            session.Out.WriteLine($"created {file} ({Units.Bytes(geometry.ZoneSize)}) and {ZoneFiles.DataPath(file)} ({Units.Bytes(bytes)}): {geometry.InodeCount - 1} inodes, {Units.Bytes(dataChunks * ZoneGeometry.ChunkSize)} for data in {dataChunks} chunks of 2 MiB, a {Units.Bytes(geometry.PoolPages * ZoneGeometry.PageSize)} structure pool");
            return StargateCli.Ok;
        }));
        return command;
    }

    private Command InfoCommand()
    {
        var path = new Argument<string>("path") { Description = "Zone file." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var command = new Command("info", "Show a zone's identity, state, usage and layout.") { path, json };
        command.SetAction(r => session.Guard(() =>
        {
            using var zone = ZoneOpener.Open(r.GetValue(path)!, ZoneAccess.ReadOnly, "zone info");
            WarnIfOpenToEveryone(zone.Path);
            WarnIfOpenToEveryone(zone.DataPath);
            var s = zone.Summarize();
            if (r.GetValue(json))
            {
                session.Out.WriteLine(JsonSerializer.Serialize(s, StargateCli.Json));
                return StargateCli.Ok;
            }

            var c = CultureInfo.InvariantCulture;
            session.Out.WriteLine($"zone      {Printable.Escape(s.Path)}");
            session.Out.WriteLine($"format    {s.Version}   uuid {s.Uuid}");
            session.Out.WriteLine($"files     {Printable.Escape(s.Path)}: {Units.Bytes(s.Size)} ({s.Size} bytes), mode {ModeOf(s.Path)} (structure)");
            session.Out.WriteLine($"          {Printable.Escape(s.DataPath)}: {Units.Bytes(s.DataFileSize)} ({s.DataFileSize} bytes), mode {ModeOf(s.DataPath)} (data)");
            foreach (string area in GuestAreas.FilesOf(s.Path).Order(StringComparer.Ordinal))
            {
                session.Out.WriteLine($"          {Printable.Escape(area)}: {Units.Bytes((ulong)new FileInfo(area).Length)}, mode {ModeOf(area)} (a guest's private area, made by stargate serve)");
            }
            session.Out.WriteLine($"created   {s.Created.ToString("yyyy-MM-dd HH:mm:ss", c)}Z");
            session.Out.WriteLine($"state     {(s.Clean ? "clean" : "open or not closed cleanly")}{(s.JournalActive ? ", journal holds an unfinished change" : string.Empty)}; opened for writing {s.OpenCount} times");
            if (s.Writer is not null)
            {
                session.Out.WriteLine($"writer    {(s.Clean ? "last: " : string.Empty)}{Printable.Escape(s.Writer)}");
            }

            session.Out.WriteLine($"inodes    {s.InodesUsed} used of {s.Inodes}");
            session.Out.WriteLine($"data      {Units.Bytes(s.DataBytesUsed)} used of {Units.Bytes(s.DataBytes)} ({s.Chunks} chunks of 2 MiB, {s.GroupChunks} per allocation group)");
            if (s.PendingBytes > 0)
            {
                session.Out.WriteLine($"pending   {Units.Bytes(s.PendingBytes)} freed, in use until every live guest acknowledges (grace period)");
            }

            session.Out.WriteLine($"pool      {Units.Bytes(s.PoolBytesUsed)} used of {Units.Bytes(s.PoolBytes)} (page tables, directories, symlinks)");
            session.Out.WriteLine($"peers     up to {s.MaxPeers}");
            session.Out.WriteLine("regions");
            foreach (var region in s.Regions)
            {
                session.Out.WriteLine($"  {region.Name,-13} 0x{region.Offset:x12}  {Units.Bytes(region.Size),10}");
            }

            return StargateCli.Ok;
        }));
        return command;
    }

    private Command FsckCommand()
    {
        var path = new Argument<string>("path") { Description = "Zone file." };
        var repair = new Option<bool>("--repair") { Description = "Fix what can be fixed (roll back an unfinished change, rebuild bitmaps and counts, drop broken entries)." };
        var command = new Command("fsck", "Check a zone's structure. Exit 0: clean; 1: problems found (listed); 2: not a usable zone.") { path, repair };
        command.SetAction(r =>
        {
            string file = r.GetValue(path)!;
            try
            {
                var report = ZoneChecker.Check(file, r.GetValue(repair));
                WarnIfOpenToEveryone(file);
                WarnIfOpenToEveryone(ZoneFiles.DataPath(file));
                foreach (string line in report.Lines())
                {
                    session.Out.WriteLine(Printable.Escape(line));
                }

                return report.Problems.Count == 0 ? 0 : 1;
            }
            catch (Exception e) when (e is ZoneException or IOException or UnauthorizedAccessException)
            {
                session.Err.WriteLine($"stargate: {Printable.Escape(e.Message)}");
                return 2;
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("STARGATE_DEBUG") is null)
            {
                // fsck's 1 means "problems found": a failure of fsck itself must not look like that.
                session.Err.WriteLine($"stargate: internal error in fsck: {e.GetType().Name}: {Printable.Escape(e.Message)} (set STARGATE_DEBUG=1 for the stack trace)");
                return StargateCli.InternalError;
            }
        });
        return command;
    }

    private Command RmCommand()
    {
        var path = new Argument<string>("path") { Description = "Zone (structure file) to remove, with its data file." };
        var command = new Command("rm", "Remove a zone: PATH, PATH.data and any guest area files PATH.area.N (never while a writer, such as stargate serve, has it open).") { path };
        command.SetAction(r => session.Guard(() =>
        {
            string file = r.GetValue(path)!;
            int areas = GuestAreas.FilesOf(file).Count();
            Zone.Remove(file);
            session.Out.WriteLine($"removed {file} and {ZoneFiles.DataPath(file)}{(areas > 0 ? $" and {areas} guest area file{(areas == 1 ? string.Empty : "s")}" : string.Empty)}");
            return StargateCli.Ok;
        }));
        return command;
    }

    private Command MigrateCommand()
    {
        var oldPath = new Argument<string>("old") { Description = "The format 1 zone (one file) to read; it is never written." };
        var newPath = new Argument<string>("new") { Description = "The format 2 zone to create: NEW and NEW.data." };
        var size = new Option<string?>("--size") { Description = "The new zone's size (its data file's), as for 'zone create'; default: the old zone's size." };
        var force = new Option<bool>("--force") { Description = "Format over an existing NEW (its contents are lost)." };
        var group = new Option<string?>("--group") { Description = "A group (name or gid) given read-write access to NEW (mode 0660); without it NEW is 0600." };
        var command = new Command("migrate", "Move the files of a format 1 zone into a new format 2 zone (all or nothing; the old zone is only read).") { oldPath, newPath, size, force, group };
        command.SetAction(r => session.Guard(() =>
        {
            ulong? bytes = null;
            if (r.GetValue(size) is { } sizeText)
            {
                if (ParseSize(sizeText, "zone migrate", out ulong parsed) is { } badSize)
                {
                    return badSize;
                }

                bytes = parsed;
            }

            if (ParseGroup(r.GetValue(group), "zone migrate", out uint? gid) is { } badGroup)
            {
                return badGroup;
            }

            string from = r.GetValue(oldPath)!;
            string to = r.GetValue(newPath)!;
            if (ServeLink.TryConnect(from) is { } serve)
            {
                serve.Dispose();
                return session.Fail($"{from} is served by stargate serve (named in {ServeLink.FileFor(from)}); stop it first (zone migrate reads a zone nothing changes)");
            }

            var tree = Format1Migration.Migrate(from, to, bytes, r.GetValue(force), gid);
            var nodes = tree.Nodes.Values;
            ulong fileBytes = nodes.Where(n => n.Type == SgzAbi.SIfreg).Aggregate(0UL, (sum, n) => sum + n.Size);
            ulong dataSize = bytes ?? Format1Migration.DefaultSize(tree.ZoneSize);
            session.Out.WriteLine(
                $"migrated {from} (format {tree.Version}) into {to} and {ZoneFiles.DataPath(to)} (format {SgzAbi.VersionMajor}.{SgzAbi.VersionMinor}, {Units.Bytes(dataSize)}): " +
                $"{nodes.Count(n => n.Type == SgzAbi.SIfdir)} directories, {nodes.Count(n => n.Type == SgzAbi.SIfreg)} files ({Units.Bytes(fileBytes)} in size), " +
                $"{nodes.Count(n => n.Type == SgzAbi.SIflnk)} symbolic links, {nodes.Count(n => n.Type is SgzAbi.SIfifo or SgzAbi.SIfsock)} fifos and sockets, " +
                $"{tree.Entries.Count - (tree.Nodes.Count - 1)} further hard links");
            return StargateCli.Ok;
        }));
        return command;
    }

    /// <summary>A --size value that must be a zone size; null when it is one, else the usage error's exit code.</summary>
    private int? ParseSize(string text, string command, out ulong bytes)
    {
        if (!Units.TryParseSize(text, out bytes))
        {
            return session.BadUsage($"--size '{text}' is not a size (examples: 16M, 1G, 64GiB)", command);
        }

        try
        {
            ZoneGeometry.CheckSize(bytes);
            return null;
        }
        catch (ZoneException e)
        {
            return session.BadUsage($"--size: {e.Message}", command);
        }
    }

    /// <summary>A --group value (name or gid), absent or a known group; null when it is fine, else the usage error's exit code.</summary>
    private int? ParseGroup(string? name, string command, out uint? gid)
    {
        gid = null;
        return name is not null && (gid = UserDatabase.GroupId(name)) is null
            ? session.BadUsage($"--group {name}: no such group (give a group name or a gid)", command)
            : null;
    }

    private static string ModeOf(string path) =>
        Libc.Stat(path, out var status) == 0 ? Convert.ToString(status.Permissions, 8).PadLeft(4, '0') : "?";

    /// <summary>One line on stderr when every local user may read or write the zone (it does not change the exit code).</summary>
    private void WarnIfOpenToEveryone(string path)
    {
        Sys.Check(Libc.Stat(path, out var status), "stat", path);
        string? what = (status.Permissions & 0b110 /* others may read, write */) switch
        {
            6 => "world-readable and world-writable",
            4 => "world-readable",
            2 => "world-writable",
            _ => null,
        };
        if (what is not null)
        {
            session.Err.WriteLine($"stargate: warning: {Printable.Escape(path)} is {what} (mode {Convert.ToString(status.Permissions, 8).PadLeft(4, '0')}): every local user can reach every file in the zone; chmod 600 it, or chgrp it to QEMU's group and chmod 660");
        }
    }
}
