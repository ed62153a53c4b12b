using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Cli;

/// <summary>
/// File commands on a zone from the host: ls, stat, cat, put, get, mkdir, rm,
/// rmdir, mv, truncate, readlink, xattr. Reading commands open the zone read-only (they work
/// beside a running writer); changing ones open it for writing, or, when a
/// running `stargate serve` holds it, are forwarded there and run by this same
/// code on serve's zone (CliSession.Writing).
/// </summary>
internal sealed class FileCommands(CliSession session)
{
    public IEnumerable<Command> Create() =>
        [Ls(), Stat(), Cat(), Put(), Get(), Mkdir(), Rm(), Rmdir(), Mv(), Truncate(), Readlink(), Xattr()];

    private static Argument<string> ZoneArg() => new("zone") { Description = "Zone file." };

    private static Argument<string> PathArg(string name = "path", string description = "Path inside the zone.") =>
        new(name) { Description = description };

    private Command Ls()
    {
        var zoneArg = ZoneArg();
        var path = new Argument<string>("path") { Description = "Directory or file inside the zone.", DefaultValueFactory = _ => "/" };
        var longFormat = new Option<bool>("--long", "-l") { Description = "Mode, links, owner, size and time of each entry." };
        var command = new Command("ls", "List a directory in the zone.") { zoneArg, path, longFormat };
        command.SetAction(r => session.Guard(() =>
        {
            using var zone = ZoneOpener.Open(session.HostPath(r.GetValue(zoneArg)!), ZoneAccess.ReadOnly, "ls");
            string p = r.GetValue(path)!;
            var info = zone.Names.Stat(p);
            var rows = info.IsDirectory
                ? zone.Names.ReadDirectory(info.Ino).OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => (e.Name, e.Ino)).ToList()
                : [(p.TrimEnd('/').Split('/')[^1], info.Ino)];
            foreach (var (name, ino) in rows)
            {
                if (!r.GetValue(longFormat))
                {
                    session.Out.WriteLine(Printable.Escape(name));
                    continue;
                }

                var s = zone.Names.StatInode(ino);
                session.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{ModeString(s.Mode)} {s.Nlink,3} {s.Uid,5} {s.Gid,5} {s.Size,14} {ZoneClock.ToDateTime(s.MtimeNs):yyyy-MM-dd HH:mm} {Printable.Escape(name)}"));
            }

            return StargateCli.Ok;
        }));
        return command;
    }

    private Command Stat()
    {
        var zoneArg = ZoneArg();
        var path = PathArg();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var extents = new Option<bool>("--extents") { Description = "The file's allocated extents instead: file offset, zone offset, length, 2M or 4K (contiguous ones merged)." };
        var command = new Command("stat", "Show a file's inode.") { zoneArg, path, json, extents };
        command.SetAction(r => session.Guard(() =>
        {
            using var zone = ZoneOpener.Open(session.HostPath(r.GetValue(zoneArg)!), ZoneAccess.ReadOnly, "stat");
            if (r.GetValue(extents))
            {
                PrintExtents(zone, r.GetValue(path)!, r.GetValue(json));
                return StargateCli.Ok;
            }

            var s = zone.Names.Stat(r.GetValue(path)!);

            if (r.GetValue(json))
            {
                session.Out.WriteLine(JsonSerializer.Serialize(s, StargateCli.Json));
                return StargateCli.Ok;
            }

            string Time(ulong ns) => ZoneClock.ToDateTime(ns).ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "Z";
            session.Out.WriteLine($"  File: {Printable.Escape(r.GetValue(path)!)}");
            session.Out.WriteLine($"  Size: {s.Size}\tPages: {s.Pages}\tType: {TypeName(s.Mode)}");
            session.Out.WriteLine($" Inode: {s.Ino}\tGeneration: {s.Generation}\tLinks: {s.Nlink}{(s.IsDirectory ? $"\tEntries: {s.Entries}" : string.Empty)}");
            session.Out.WriteLine($"Access: ({Convert.ToString(s.Permissions, 8).PadLeft(4, '0')}/{ModeString(s.Mode)})\tUid: {s.Uid}\tGid: {s.Gid}");
            session.Out.WriteLine($"Modify: {Time(s.MtimeNs)}");
            session.Out.WriteLine($"Change: {Time(s.CtimeNs)}");
            session.Out.WriteLine($" Birth: {Time(s.BtimeNs)}");
            session.Out.WriteLine($" Index: page-table depth {s.PageTableDepth}");
            return StargateCli.Ok;
        }));
        return command;
    }

    /// <summary>
    /// `stat --extents`: a header, then one line per extent in hex, so that 2 MiB alignment
    /// shows at a glance; with --json an object with path, size and the extents in bytes.
    /// </summary>
    private void PrintExtents(Zone zone, string path, bool json)
    {
        var s = RegularFile(zone, path);
        var list = FileExtents.Of(zone, s.Ino);
        if (json)
        {
            session.Out.WriteLine(JsonSerializer.Serialize(new { path, s.Size, extents = list }, StargateCli.Json));
            return;
        }

        session.Out.WriteLine($"  File: {Printable.Escape(path)}\tSize: {s.Size}\tExtents: {list.Count}");
        session.Out.WriteLine(" ext   file offset   zone offset        length  kind");
        for (int i = 0; i < list.Count; i++)
        {
            var e = list[i];
            session.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i,4}  {"0x" + e.FileOffset.ToString("x", CultureInfo.InvariantCulture),12}  {"0x" + e.ZoneOffset.ToString("x", CultureInfo.InvariantCulture),12}  {"0x" + e.Length.ToString("x", CultureInfo.InvariantCulture),12}  {e.Kind}"));
        }
    }

    private Command Cat()
    {
        var zoneArg = ZoneArg();
        var path = PathArg();
        var command = new Command("cat", "Write a file's bytes to standard output.") { zoneArg, path };
        command.SetAction(r => session.Guard(() =>
        {
            using var zone = ZoneOpener.Open(session.HostPath(r.GetValue(zoneArg)!), ZoneAccess.ReadOnly, "cat");
            var file = RegularFile(zone, r.GetValue(path)!);
            using var stdout = Console.OpenStandardOutput();
            zone.Files.Read(file.Ino, 0, file.Size, new StreamSink(stdout), null);
            return StargateCli.Ok;
        }));
        return command;
    }

    private Command Put()
    {
        var zoneArg = ZoneArg();
        var local = new Argument<string>("local") { Description = "Host file to copy into the zone." };
        var dest = new Argument<string?>("dest") { Description = "Path in the zone (default: /NAME; an existing directory receives NAME).", DefaultValueFactory = _ => null };
        var command = new Command("put", "Copy a host file into the zone (replacing a file there).") { zoneArg, local, dest };
        command.SetAction(r => session.Guard(() =>
        {
            string source = r.GetValue(local)!;
            using var file = OpenHostFile(session.HostPath(source), source, FileMode.Open, FileAccess.Read);
            return session.Writing(r.GetValue(zoneArg)!, "put", zone =>
            {
                string name = System.IO.Path.GetFileName(source);
                string target = r.GetValue(dest) ?? "/" + name;
                if (TryStat(zone, target) is { IsDirectory: true })
                {
                    target = target.TrimEnd('/') + "/" + name;
                }

                ulong length = (ulong)RandomAccess.GetLength(file);
                var progress = new Progress(session, "put", target, length);
                ImportReplacing(zone, file, target, progress);
                progress.Done(length);
                return StargateCli.Ok;
            });
        }));
        return command;
    }

    private Command Get()
    {
        var zoneArg = ZoneArg();
        var path = PathArg("src", "File in the zone.");
        var local = new Argument<string?>("local") { Description = "Host file to write (default: NAME in the current directory; '-' for standard output).", DefaultValueFactory = _ => null };
        var command = new Command("get", "Copy a file out of the zone (holes stay holes).") { zoneArg, path, local };
        command.SetAction(r => session.Guard(() =>
        {
            using var zone = ZoneOpener.Open(session.HostPath(r.GetValue(zoneArg)!), ZoneAccess.ReadOnly, "get");
            string src = r.GetValue(path)!;
            var info = RegularFile(zone, src);

            string name = src.TrimEnd('/').Split('/')[^1];
            string target = r.GetValue(local) ?? name;
            if (target == "-")
            {
                using var stdout = Console.OpenStandardOutput();
                zone.Files.Read(info.Ino, 0, info.Size, new StreamSink(stdout), null);
                return StargateCli.Ok;
            }

            if (Directory.Exists(session.HostPath(target)))
            {
                target = System.IO.Path.Combine(target, name);
            }

            using var file = OpenHostFile(session.HostPath(target), target, FileMode.Create, FileAccess.ReadWrite);
            var progress = new Progress(session, "get", src, info.Size);
            ulong n = zone.Files.Export(info.Ino, file, progress.Report);
            progress.Done(n);
            return StargateCli.Ok;
        }));
        return command;
    }

    private Command Mkdir()
    {
        var zoneArg = ZoneArg();
        var paths = new Argument<string[]>("paths") { Description = "Directories to make.", Arity = ArgumentArity.OneOrMore };
        var parents = new Option<bool>("--parents", "-p") { Description = "Make missing parents; no error if the directory exists." };
        var command = new Command("mkdir", "Make directories in the zone.") { zoneArg, paths, parents };
        command.SetAction(r => session.Guard(() =>
        {
            return session.Writing(r.GetValue(zoneArg)!, "mkdir", zone =>
            {
                foreach (string p in r.GetValue(paths)!)
                {
                    _ = r.GetValue(parents) ? zone.Names.MakeDirectories(p) : zone.Names.MakeDirectory(p);
                }

                return StargateCli.Ok;
            });
        }));
        return command;
    }

    private Command Rm()
    {
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Remove directories and everything in them." };
        var command = EachPath("rm", "Remove files from the zone.", (zone, p, r) =>
        {
            if (r.GetValue(recursive))
            {
                RemoveTree(zone, p);
            }
            else
            {
                zone.Names.Unlink(p);
            }
        });
        command.Options.Add(recursive);
        return command;
    }

    /// <summary>
    /// rm -r: a file, or a directory after everything in it, depth first. An explicit stack,
    /// not recursion: guests may nest directories deeper than a thread's stack goes. The root
    /// stays (it cannot be removed; remove what is in it).
    /// </summary>
    private static void RemoveTree(Zone zone, string path)
    {
        if (zone.Names.Stat(path).Ino == zone.Names.Stat("/").Ino)
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{path}: the root of the zone cannot be removed (remove what is in it)");
        }

        var pending = new Stack<(string Path, bool Emptied)>();
        pending.Push((path.TrimEnd('/'), false));
        while (pending.TryPop(out var item))
        {
            var info = zone.Names.Stat(item.Path);
            if (!info.IsDirectory)
            {
                zone.Names.Unlink(item.Path);
            }
            else if (item.Emptied)
            {
                zone.Names.RemoveDirectory(item.Path);
            }
            else
            {
                pending.Push((item.Path, true));
                foreach (var entry in zone.Names.ReadDirectory(info.Ino))
                {
                    pending.Push(($"{item.Path}/{entry.Name}", false));
                }
            }
        }
    }

    private Command Rmdir() => EachPath("rmdir", "Remove empty directories from the zone.", (zone, p, _) => zone.Names.RemoveDirectory(p));

    private Command EachPath(string name, string description, Action<Zone, string, ParseResult> action)
    {
        var zoneArg = ZoneArg();
        var paths = new Argument<string[]>("paths") { Description = "Paths inside the zone.", Arity = ArgumentArity.OneOrMore };
        var command = new Command(name, description) { zoneArg, paths };
        command.SetAction(r => session.Guard(() =>
        {
            return session.Writing(r.GetValue(zoneArg)!, name, zone =>
            {
                foreach (string p in r.GetValue(paths)!)
                {
                    action(zone, p, r);
                }

                return StargateCli.Ok;
            });
        }));
        return command;
    }

    private Command Mv()
    {
        var zoneArg = ZoneArg();
        var from = PathArg("from", "Existing path.");
        var to = PathArg("to", "New path; an existing directory receives the entry under its own name.");
        var command = new Command("mv", "Rename or move within the zone (replacing a file, or an empty directory, at the target).") { zoneArg, from, to };
        command.SetAction(r => session.Guard(() =>
        {
            return session.Writing(r.GetValue(zoneArg)!, "mv", zone =>
            {
                string src = r.GetValue(from)!;
                string dst = r.GetValue(to)!;
                var source = zone.Names.Stat(src);
                if (TryStat(zone, dst) is { IsDirectory: true } dir && dir.Ino != source.Ino && !source.IsDirectory)
                {
                    dst = dst.TrimEnd('/') + "/" + src.TrimEnd('/').Split('/')[^1];
                }

                zone.Names.Rename(src, dst);
                return StargateCli.Ok;
            });
        }));
        return command;
    }

    private Command Truncate()
    {
        var zoneArg = ZoneArg();
        var path = PathArg();
        var size = new Option<string>("--size", "-s") { Description = "New size (suffixes K, M, G, T).", Required = true };
        var command = new Command("truncate", "Shrink or extend a file in the zone.") { zoneArg, path, size };
        command.SetAction(r => session.Guard(() =>
        {
            string text = r.GetValue(size)!;
            if (!Units.TryParseSize(text, out ulong bytes))
            {
                return session.BadUsage($"--size '{text}' is not a size (examples: 0, 4096, 10M)", "truncate");
            }

            return session.Writing(r.GetValue(zoneArg)!, "truncate", zone =>
            {
                zone.Files.Truncate(RegularFile(zone, r.GetValue(path)!).Ino, bytes);
                return StargateCli.Ok;
            });
        }));
        return command;
    }

    private Command Readlink()
    {
        var zoneArg = ZoneArg();
        var path = PathArg();
        var command = new Command("readlink", "Print a symbolic link's target.") { zoneArg, path };
        command.SetAction(r => session.Guard(() =>
        {
            using var zone = ZoneOpener.Open(session.HostPath(r.GetValue(zoneArg)!), ZoneAccess.ReadOnly, "readlink");
            session.Out.WriteLine(Printable.Escape(Encoding.UTF8.GetString(zone.Names.ReadLink(zone.Names.Resolve(r.GetValue(path)!)))));
            return StargateCli.Ok;
        }));
        return command;
    }

    /// <summary>
    /// `xattr ZONE PATH`: every attribute as name=value; with NAME its value; with NAME VALUE
    /// sets it (as root: trusted.* too); --remove NAME removes it. Values print as text, escaped.
    /// </summary>
    private Command Xattr()
    {
        var zoneArg = ZoneArg();
        var path = PathArg();
        var name = new Argument<string?>("name") { Description = "Full attribute name, such as user.comment (user., trusted. and security. namespaces).", Arity = ArgumentArity.ZeroOrOne };
        var value = new Argument<string?>("value") { Description = "New value (set).", Arity = ArgumentArity.ZeroOrOne };
        var remove = new Option<bool>("--remove", "-x") { Description = "Remove the attribute NAME." };
        var command = new Command("xattr", "List, read, set or remove a file's extended attributes.") { zoneArg, path, name, value, remove };
        command.SetAction(r => session.Guard(() =>
        {
            string p = r.GetValue(path)!;
            string? n = r.GetValue(name);
            string? v = r.GetValue(value);
            if (r.GetValue(remove) && (n is null || v is not null))
            {
                return session.BadUsage("--remove takes a NAME and no VALUE", "xattr");
            }

            if (v is not null || r.GetValue(remove))
            {
                return session.Writing(r.GetValue(zoneArg)!, "xattr", zone =>
                {
                    if (v is null)
                    {
                        zone.Xattrs.RemoveXattr(p, n!);
                    }
                    else
                    {
                        zone.Xattrs.SetXattr(p, n!, Encoding.UTF8.GetBytes(v));
                    }

                    return StargateCli.Ok;
                });
            }

            using var zone = ZoneOpener.Open(session.HostPath(r.GetValue(zoneArg)!), ZoneAccess.ReadOnly, "xattr");
            if (n is not null)
            {
                session.Out.WriteLine(Printable.Escape(Encoding.UTF8.GetString(zone.Xattrs.GetXattr(p, n))));
                return StargateCli.Ok;
            }

            foreach (var e in zone.Xattrs.ListXattrs(p))
            {
                session.Out.WriteLine($"{Printable.Escape(e.FullName)}={Printable.Escape(Encoding.UTF8.GetString(e.Value))}");
            }

            return StargateCli.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Copies a host file to <paramref name="target"/> so that the target is only ever the
    /// old file or the whole new one: the data goes to a hidden name beside it, which then
    /// replaces it in one rename. On failure (no space, a read error) the hidden file is
    /// removed and the old file is untouched. A put killed midway leaves the hidden file;
    /// the next put to the same target removes it (there is one writer at a time).
    /// </summary>
    private static void ImportReplacing(Zone zone, Microsoft.Win32.SafeHandles.SafeFileHandle file, string target, Progress progress)
    {
        string trimmed = target.TrimEnd('/');
        int cut = trimmed.LastIndexOf('/');
        string staging = $"{trimmed[..(cut + 1)]}.{trimmed[(cut + 1)..]}{StagingSuffix}";
        if (Encoding.UTF8.GetByteCount(staging[(cut + 1)..]) > SgzAbi.NameMax)
        {
            staging = $"{trimmed[..(cut + 1)]}.{Crc32C.Compute(Encoding.UTF8.GetBytes(trimmed[(cut + 1)..])):x8}{StagingSuffix}";
        }

        if (TryStat(zone, staging) is { IsRegularFile: true })
        {
            zone.Names.Unlink(staging);
        }

        if (TryStat(zone, target) is { IsRegularFile: false, IsDirectory: false })
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"{target}: not a regular file");
        }

        ulong ino = zone.Names.CreateFile(staging);
        try
        {
            zone.Files.Import(ino, file, progress.Report);
            zone.Names.Rename(staging, target);
        }
        catch
        {
            zone.Names.Unlink(staging);
            throw;
        }
    }

    /// <summary>The inode of <paramref name="path"/>, which must be a regular file (the message names the path).</summary>
    private static InodeInfo RegularFile(Zone zone, string path)
    {
        var info = zone.Names.Stat(path);
        return info.IsRegularFile ? info
            : throw new ZoneException(info.IsDirectory ? ZoneError.IsDirectory : ZoneError.InvalidArgument,
                $"{path}: {(info.IsDirectory ? "is a directory" : "not a regular file")}");
    }

    internal const string StagingSuffix = ".stargate-put";

    private static InodeInfo? TryStat(Zone zone, string path)
    {
        try
        {
            return zone.Names.Stat(path);
        }
        catch (ZoneException e) when (e.Error == ZoneError.NotFound)
        {
            return null;
        }
    }

    /// <summary>Opens <paramref name="path"/> (absolute); messages name it as the user wrote it, <paramref name="shown"/>.</summary>
    private static Microsoft.Win32.SafeHandles.SafeFileHandle OpenHostFile(string path, string shown, FileMode mode, FileAccess access)
    {
        try
        {
            return File.OpenHandle(path, mode, access, FileShare.Read);
        }
        catch (FileNotFoundException)
        {
            throw new ZoneException(ZoneError.NotFound, $"{shown}: no such host file");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ZoneException(ZoneError.NotFound, $"{shown}: no such host directory");
        }
    }

    internal static string TypeName(uint mode) => (mode & SgzAbi.SIfmt) switch
    {
        SgzAbi.SIfreg => "regular file",
        SgzAbi.SIfdir => "directory",
        SgzAbi.SIflnk => "symbolic link",
        SgzAbi.SIfifo => "fifo",
        SgzAbi.SIfchr => "character device",
        SgzAbi.SIfblk => "block device",
        SgzAbi.SIfsock => "socket",
        _ => "unknown",
    };

    internal static string ModeString(uint mode)
    {
        char type = (mode & SgzAbi.SIfmt) switch
        {
            SgzAbi.SIfdir => 'd',
            SgzAbi.SIflnk => 'l',
            SgzAbi.SIfifo => 'p',
            SgzAbi.SIfchr => 'c',
            SgzAbi.SIfblk => 'b',
            SgzAbi.SIfsock => 's',
            _ => '-',
        };
        Span<char> s = stackalloc char[10];
        s[0] = type;
        const string rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
        {
            s[i + 1] = (mode & (1u << (8 - i))) != 0 ? rwx[i] : '-';
        }

        return new string(s);
    }

    private sealed class StreamSink(Stream stream) : IDataSink
    {
        private static readonly byte[] Zeros = new byte[1 << 16];

        public void Write(ReadOnlySpan<byte> data, ulong sinkOffset) => stream.Write(data);

        public void Hole(ulong sinkOffset, ulong length)
        {
            for (ulong done = 0; done < length;)
            {
                int n = (int)Math.Min((ulong)Zeros.Length, length - done);
                stream.Write(Zeros, 0, n);
                done += (ulong)n;
            }
        }
    }
}
