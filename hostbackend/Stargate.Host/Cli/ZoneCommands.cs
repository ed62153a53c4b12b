using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Stargate.Host.Fsck;
using Stargate.Host.Zones;
using Stargate.Interop.Native;

namespace Stargate.Host.Cli;

/// <summary>`stargate zone create|info|fsck`.</summary>
internal sealed class ZoneCommands(CliSession session)
{
    public Command Create()
    {
        var zone = new Command("zone", "Create, inspect and check zone files.");
        zone.Subcommands.Add(CreateCommand());
        zone.Subcommands.Add(InfoCommand());
        zone.Subcommands.Add(FsckCommand());
        return zone;
    }

    private Command CreateCommand()
    {
        var path = new Argument<string>("path") { Description = "Zone file to create (in /dev/shm, on hugetlbfs, or on a DAX file system)." };
        var size = new Option<string>("--size") { Description = "Zone size: a power of two from 16M to 1T (suffixes K, M, G, T; binary).", Required = true };
        var force = new Option<bool>("--force") { Description = "Format over an existing file (its contents are lost)." };
        var group = new Option<string?>("--group") { Description = "A group (name or gid) given read-write access (mode 0660), as QEMU's user's group; without it the zone is 0600." };
        var command = new Command("create", "Format a new zone file (mode 0600, or 0660 with --group).") { path, size, force, group };
        command.SetAction(r => session.Guard(() =>
        {
            string sizeText = r.GetValue(size)!;
            if (!Units.TryParseSize(sizeText, out ulong bytes))
            {
                return session.BadUsage($"--size '{sizeText}' is not a size (examples: 16M, 1G, 64GiB)", "zone create");
            }

            try
            {
                ZoneGeometry.CheckSize(bytes);
            }
            catch (ZoneException e)
            {
                return session.BadUsage($"--size: {e.Message}", "zone create");
            }

            uint? gid = null;
            if (r.GetValue(group) is { } name && (gid = UserDatabase.GroupId(name)) is null)
            {
                return session.BadUsage($"--group {name}: no such group (give a group name or a gid)", "zone create");
            }

            string file = r.GetValue(path)!;
            var geometry = Zone.Format(file, bytes, r.GetValue(force), gid);
            session.Out.WriteLine($"created {file}: {Units.Bytes(bytes)}, {geometry.InodeCount - 1} inodes, {Units.Bytes(geometry.Data.Size)} for data in {geometry.ChunkCount} chunks of 2 MiB");
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
            var s = zone.Summarize();
            if (r.GetValue(json))
            {
                session.Out.WriteLine(JsonSerializer.Serialize(s, StargateCli.Json));
                return StargateCli.Ok;
            }

            var c = CultureInfo.InvariantCulture;
            session.Out.WriteLine($"zone      {Printable.Escape(s.Path)}");
            session.Out.WriteLine($"format    {s.Version}   uuid {s.Uuid}");
            session.Out.WriteLine($"size      {Units.Bytes(s.Size)} ({s.Size} bytes), created {s.Created.ToString("yyyy-MM-dd HH:mm:ss", c)}Z");
            session.Out.WriteLine($"state     {(s.Clean ? "clean" : "open or not closed cleanly")}{(s.JournalActive ? ", journal holds an unfinished change" : string.Empty)}; opened for writing {s.OpenCount} times");
            if (s.Writer is not null)
            {
                session.Out.WriteLine($"writer    {(s.Clean ? "last: " : string.Empty)}{Printable.Escape(s.Writer)}");
            }

            session.Out.WriteLine($"inodes    {s.InodesUsed} used of {s.Inodes}");
            session.Out.WriteLine($"data      {Units.Bytes(s.DataBytesUsed)} used of {Units.Bytes(s.DataBytes)} ({s.Chunks} chunks of 2 MiB, {s.GroupChunks} per allocation group)");
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
