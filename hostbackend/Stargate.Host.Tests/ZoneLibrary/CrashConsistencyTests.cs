using Stargate.Host.Fsck;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// A writer killed at any point leaves the zone as it was before or after each
/// structural change, never torn. In-process: every operation of a script is
/// stopped at each of its crash points in turn (the journal's CrashPoint hook),
/// the zone dropped as a killed process would drop it, reopened (which undoes
/// the journal) and checked. Out of process: the real `stargate` command
/// SIGKILLs itself at exact points (STARGATE_CRASH_AFTER).
/// </summary>
public class CrashConsistencyTests
{
    private const ulong Mib = 1UL << 20;

    /// <summary>
    /// The script. Each crash-tested step is one structural change as a user sees it (a write
    /// is its allocation, data and size, of which only the last is visible); steps marked
    /// false only set the stage, such as filling a directory page so that the next entry
    /// needs a new page.
    /// </summary>
    private static readonly (string Name, bool Crash, Action<Zone> Run)[] Script =
    [
        ("mkdir", true, z => z.Names.MakeDirectory("/a")),
        ("mkdir nested", true, z => z.Names.MakeDirectory("/a/b")),
        ("create", true, z => z.Names.CreateFile("/a/f")),
        ("write small", true, z => z.Files.Write(z.Names.Resolve("/a/f"), 0, Fill(10_000, 1))),
        ("append into chunks", true, z => z.Files.Write(z.Names.Resolve("/a/f"), 10_000, Fill((int)(5 * Mib), 2))),
        ("overwrite in place", true, z => z.Files.Write(z.Names.Resolve("/a/f"), 4096, Fill(100_000, 3))),
        ("create sparse", false, z => z.Names.CreateFile("/a/sparse")),
        ("sparse write", true, z => z.Files.Write(z.Names.Resolve("/a/sparse"), 9 * Mib, Fill(10, 4))),
        ("fill a directory page", false, z =>
        {
            for (int i = 0; i < 14; i++)
            {
                z.Names.CreateFile($"/a/b/n{i}");
            }
        }),
        ("add a directory page", true, z => z.Names.CreateFile("/a/b/n14")),
        ("truncate shrink", true, z => z.Files.Truncate(z.Names.Resolve("/a/f"), 3000)),
        ("truncate grow", true, z => z.Files.Truncate(z.Names.Resolve("/a/f"), 3 * Mib)),
        ("rename over a file", true, z => z.Names.Rename("/a/sparse", "/a/f")),
        ("move a directory", true, z => z.Names.Rename("/a/b", "/moved")),
        ("unlink", true, z => z.Names.Unlink("/a/f")),
        ("give back a directory page", true, z => z.Names.Unlink("/moved/n14")),
        ("empty the directory", false, z =>
        {
            for (int i = 0; i < 14; i++)
            {
                z.Names.Unlink($"/moved/n{i}");
            }
        }),
        ("rmdir", true, z => z.Names.RemoveDirectory("/moved")),
        ("set the stage for requests", false, z =>
        {
            z.Files.Write(z.Names.CreateFile("/a/x"), 0, Fill(10_000, 5));
            z.Names.MakeDirectory("/d");
            z.Names.CreateFile("/d/in");
        }),
        ("link request", true, z => z.Names.Link(Caller.Host, Node(z, "/"), "hard"u8, Node(z, "/a/x"))),
        ("setattr mode and shrink", true, z => z.Files.SetAttributes(Caller.Host, Node(z, "/a/x"),
            new AttributeChange(Interop.Abi.SgzAbi.AttrMode | Interop.Abi.SgzAbi.AttrSize, 0x180, 0, 0, 5000, 0, 0))),
        ("exchange a directory and a file", true, z => z.Names.Rename(Caller.Host, Node(z, "/"), "d"u8, Node(z, "/a"), "x"u8, Interop.Abi.SgzAbi.RenameExchange)),
    ];

    private static NodeRef Node(Zone z, string path)
    {
        ulong ino = z.Names.Resolve(path);
        return new NodeRef(ino, z.Names.StatInode(ino).Generation);
    }

    [Fact]
    public void EveryCrashPointOfEveryStep_LeavesTheStateBeforeOrAfter_AndFsckClean()
    {
        using var zone = new TempZone(16 * Mib);
        string work = zone.Scratch("work");
        int crashes = 0;
        foreach (var (name, _, run) in Script.Where(step => step.Crash || Apply(zone.Path, step.Run)))
        {
            var before = ZoneState.Capture(zone.Path);
            zone.CopyTo(work);
            using (var z = Zone.Open(work, ZoneAccess.ReadWrite))
            {
                run(z);
            }

            var after = ZoneState.Capture(work);
            Assert.NotEqual(before, after);
            for (int point = 1; ; point++)
            {
                zone.CopyTo(work);
                var z = Zone.Open(work, ZoneAccess.ReadWrite);
                z.InjectCrashAt(point, static () => throw new SimulatedCrashException());
                try
                {
                    run(z);
                    z.Dispose();
                    break; // ran to the end: every point of this step has been tried
                }
                catch (SimulatedCrashException)
                {
                    z.Abandon();
                }

                crashes++;
                var recovered = ZoneState.Capture(ReopenForWriting(work));
                Assert.True(recovered.SequenceEqual(before) || recovered.SequenceEqual(after),
                    $"step '{name}' killed at point {point} left neither state:\n{string.Join('\n', recovered)}");
                var report = ZoneChecker.Check(work, repair: false);
                Assert.True(report.Problems.Count == 0, $"step '{name}' killed at point {point}:\n{string.Join('\n', report.Lines())}");
            }

            using (var z = Zone.Open(zone.Path, ZoneAccess.ReadWrite))
            {
                run(z);
            }
        }

        Assert.True(crashes > 200, $"only {crashes} crash points were exercised");
    }

    /// <summary>Runs a stage-setting step on the zone; false, so that the step is not crash-tested.</summary>
    private static bool Apply(string path, Action<Zone> run)
    {
        using var z = Zone.Open(path, ZoneAccess.ReadWrite);
        run(z);
        return false;
    }

    [Fact]
    public void KilledCliWriter_AtEveryPoint_LeavesAConsistentZone()
    {
        using var zone = new TempZone(16 * Mib);
        string work = zone.Scratch("work");
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, Fill((int)(3 * Mib), 9));
        using (var z = zone.Open())
        {
            z.Names.MakeDirectory("/d");
            z.Files.Write(z.Names.CreateFile("/d/old"), 0, Fill(5000, 8));
        }

        // The states a command passes through between its changes, each built on the last.
        // put stages the data in a hidden file, fills it, then renames it over the target.
        string staging = "/d/.put" + Stargate.Host.Cli.FileCommands.StagingSuffix;
        var steps = new (string[] Args, Action<Zone>[] Between)[]
        {
            (["mkdir", work, "/d/new"], []),
            (["put", work, local, "/d/put"], [z => z.Names.CreateFile(staging), z => z.Files.Write(z.Names.Resolve(staging), 0, File.ReadAllBytes(local))]),
            (["mv", work, "/d/old", "/moved"], []),
            (["rm", work, "/d/old"], []),
        };
        int kills = 0;
        foreach (var (args, between) in steps)
        {
            zone.CopyTo(work);
            var before = ZoneState.Capture(work);
            var middle = new List<IReadOnlyList<string>>();
            foreach (var step in between)
            {
                using (var z = Zone.Open(work, ZoneAccess.ReadWrite))
                {
                    step(z);
                }

                middle.Add(ZoneState.Capture(work));
            }

            zone.CopyTo(work);
            Assert.Equal(0, StargateProcess.Run(args).ExitCode);
            var after = ZoneState.Capture(work);
            for (int point = 1; point < 500; point++)
            {
                zone.CopyTo(work);
                var r = StargateProcess.Run(new Dictionary<string, string> { ["STARGATE_CRASH_AFTER"] = point.ToString(System.Globalization.CultureInfo.InvariantCulture) }, args);
                if (r.ExitCode == 0)
                {
                    break;
                }

                Assert.Equal(128 + 9, r.ExitCode);
                kills++;
                var state = ZoneState.Capture(ReopenForWriting(work));
                Assert.True(state.SequenceEqual(before) || middle.Any(state.SequenceEqual) || state.SequenceEqual(after),
                    $"'stargate {args[0]}' killed at point {point} left:\n{string.Join('\n', state)}");
                var report = ZoneChecker.Check(work, repair: false);
                Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
            }
        }

        Assert.True(kills > 40, $"only {kills} kills");
    }

    [Fact]
    public void PutKilledAfterStaging_LeavesAHiddenFile_ThatTheNextPutRemoves()
    {
        using var zone = new TempZone(16 * Mib);
        string local = zone.Scratch("local");
        File.WriteAllBytes(local, Fill((int)(3 * Mib), 5));
        string staging = "/.f" + Stargate.Host.Cli.FileCommands.StagingSuffix;
        for (int point = 1; ; point++)
        {
            var r = StargateProcess.Run(new Dictionary<string, string> { ["STARGATE_CRASH_AFTER"] = point.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "put", zone.Path, local, "/f");
            Assert.True(r.ExitCode == 128 + 9, $"no kill left a staging file behind\n{r}");
            using var z = zone.Open(ZoneAccess.ReadWrite);
            if (z.Names.ReadDirectory("/").Any(e => "/" + e.Name == staging))
            {
                break;
            }
        }

        Assert.Equal(0, StargateProcess.Run("put", zone.Path, local, "/f").ExitCode);
        Assert.Equal(["/f file 644 size=3145728 links=1 sha256=" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(local)))[..16]],
            ZoneState.Capture(zone.Path));
    }

    /// <summary>Opens for writing (which recovers), closes cleanly, and returns the path.</summary>
    private static string ReopenForWriting(string path)
    {
        using var z = Zone.Open(path, ZoneAccess.ReadWrite);
        return path;
    }

    private static byte[] Fill(int length, byte seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
