using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Stargate.Host.Fsck;
using Stargate.Host.Zones;

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
        var command = new Command("create", "Format a new zone file.") { path, size, force };
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

            string file = r.GetValue(path)!;
            var geometry = Zone.Format(file, bytes, r.GetValue(force));
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
            var s = zone.Summarize();
            if (r.GetValue(json))
            {
                session.Out.WriteLine(JsonSerializer.Serialize(s, StargateCli.Json));
                return StargateCli.Ok;
            }

            var c = CultureInfo.InvariantCulture;
            session.Out.WriteLine($"zone      {s.Path}");
            session.Out.WriteLine($"format    {s.Version}   uuid {s.Uuid}");
            session.Out.WriteLine($"size      {Units.Bytes(s.Size)} ({s.Size} bytes), created {s.Created.ToString("yyyy-MM-dd HH:mm:ss", c)}Z");
            session.Out.WriteLine($"state     {(s.Clean ? "clean" : "open or not closed cleanly")}{(s.JournalActive ? ", journal holds an unfinished change" : string.Empty)}; opened for writing {s.OpenCount} times");
            if (s.Writer is not null)
            {
                session.Out.WriteLine($"writer    {(s.Clean ? "last: " : string.Empty)}{s.Writer}");
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
                foreach (string line in report.Lines())
                {
                    session.Out.WriteLine(line);
                }

                return report.Problems.Count == 0 ? 0 : 1;
            }
            catch (Exception e) when (e is ZoneException or IOException or UnauthorizedAccessException)
            {
                session.Err.WriteLine($"stargate: {e.Message}");
                return 2;
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("STARGATE_DEBUG") is null)
            {
                // fsck's 1 means "problems found": a failure of fsck itself must not look like that.
                session.Err.WriteLine($"stargate: internal error in fsck: {e.GetType().Name}: {e.Message} (set STARGATE_DEBUG=1 for the stack trace)");
                return StargateCli.InternalError;
            }
        });
        return command;
    }
}
