using Stargate.Host.Fsck;
using Stargate.Host.Zone;

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
    private static readonly (string Name, bool Crash, Action<Zone.Zone> Run)[] Script =
    [
        ("mkdir", true, z => z.MakeDirectory("/a")),
        ("mkdir nested", true, z => z.MakeDirectory("/a/b")),
        ("create", true, z => z.CreateFile("/a/f")),
        ("write small", true, z => z.Write(z.Resolve("/a/f"), 0, Fill(10_000, 1))),
        ("append into chunks", true, z => z.Write(z.Resolve("/a/f"), 10_000, Fill((int)(5 * Mib), 2))),
        ("overwrite in place", true, z => z.Write(z.Resolve("/a/f"), 4096, Fill(100_000, 3))),
        ("create sparse", false, z => z.CreateFile("/a/sparse")),
        ("sparse write", true, z => z.Write(z.Resolve("/a/sparse"), 9 * Mib, Fill(10, 4))),
        ("fill a directory page", false, z =>
        {
            for (int i = 0; i < 14; i++)
            {
                z.CreateFile($"/a/b/n{i}");
            }
        }),
        ("add a directory page", true, z => z.CreateFile("/a/b/n14")),
        ("truncate shrink", true, z => z.Truncate(z.Resolve("/a/f"), 3000)),
        ("truncate grow", true, z => z.Truncate(z.Resolve("/a/f"), 3 * Mib)),
        ("rename over a file", true, z => z.Rename("/a/sparse", "/a/f")),
        ("move a directory", true, z => z.Rename("/a/b", "/moved")),
        ("unlink", true, z => z.Unlink("/a/f")),
        ("give back a directory page", true, z => z.Unlink("/moved/n14")),
        ("empty the directory", false, z =>
        {
            for (int i = 0; i < 14; i++)
            {
                z.Unlink($"/moved/n{i}");
            }
        }),
        ("rmdir", true, z => z.RemoveDirectory("/moved")),
    ];

    [Fact]
    public void EveryCrashPointOfEveryStep_LeavesTheStateBeforeOrAfter_AndFsckClean()
    {
        using var zone = new TempZone(16 * Mib);
        string work = zone.Scratch("work");
        int crashes = 0;
        foreach (var (name, _, run) in Script.Where(step => step.Crash || Apply(zone.Path, step.Run)))
        {
            var before = ZoneState.Capture(zone.Path);
            File.Copy(zone.Path, work, overwrite: true);
            using (var z = Zone.Zone.Open(work, ZoneAccess.ReadWrite))
            {
                run(z);
            }

            var after = ZoneState.Capture(work);
            Assert.NotEqual(before, after);
            for (int point = 1; ; point++)
            {
                File.Copy(zone.Path, work, overwrite: true);
                var z = Zone.Zone.Open(work, ZoneAccess.ReadWrite);
                int countdown = point;
                z.CrashPoint = () =>
                {
                    if (--countdown == 0)
                    {
                        throw new SimulatedCrashException();
                    }
                };
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

            using (var z = Zone.Zone.Open(zone.Path, ZoneAccess.ReadWrite))
            {
                run(z);
            }
        }

        Assert.True(crashes > 200, $"only {crashes} crash points were exercised");
    }

    /// <summary>Runs a stage-setting step on the zone; false, so that the step is not crash-tested.</summary>
    private static bool Apply(string path, Action<Zone.Zone> run)
    {
        using var z = Zone.Zone.Open(path, ZoneAccess.ReadWrite);
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
            z.MakeDirectory("/d");
            z.Write(z.CreateFile("/d/old"), 0, Fill(5000, 8));
        }

        var steps = new (string[] Args, Action<Zone.Zone> Intermediate)[]
        {
            (["mkdir", work, "/d/new"], _ => { }),
            // put creates the file, then fills it: the empty file is a legal state between the two changes.
            (["put", work, local, "/d/put"], z => z.CreateFile("/d/put")),
            (["mv", work, "/d/old", "/moved"], _ => { }),
            (["rm", work, "/d/old"], _ => { }),
        };
        int kills = 0;
        foreach (var (args, intermediate) in steps)
        {
            File.Copy(zone.Path, work, overwrite: true);
            var before = ZoneState.Capture(work);
            using (var z = Zone.Zone.Open(work, ZoneAccess.ReadWrite))
            {
                intermediate(z);
            }

            var middle = ZoneState.Capture(work);
            File.Copy(zone.Path, work, overwrite: true);
            Assert.Equal(0, StargateProcess.Run(args).ExitCode);
            var after = ZoneState.Capture(work);
            for (int point = 1; point < 500; point++)
            {
                File.Copy(zone.Path, work, overwrite: true);
                var r = StargateProcess.Run(new Dictionary<string, string> { ["STARGATE_CRASH_AFTER"] = point.ToString(System.Globalization.CultureInfo.InvariantCulture) }, args);
                if (r.ExitCode == 0)
                {
                    break;
                }

                Assert.Equal(128 + 9, r.ExitCode);
                kills++;
                var state = ZoneState.Capture(ReopenForWriting(work));
                Assert.True(state.SequenceEqual(before) || state.SequenceEqual(middle) || state.SequenceEqual(after),
                    $"'stargate {args[0]}' killed at point {point} left:\n{string.Join('\n', state)}");
                var report = ZoneChecker.Check(work, repair: false);
                Assert.True(report.Problems.Count == 0, string.Join('\n', report.Lines()));
            }
        }

        Assert.True(kills > 40, $"only {kills} kills");
    }

    /// <summary>Opens for writing (which recovers), closes cleanly, and returns the path.</summary>
    private static string ReopenForWriting(string path)
    {
        using var z = Zone.Zone.Open(path, ZoneAccess.ReadWrite);
        return path;
    }

    private static byte[] Fill(int length, byte seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
