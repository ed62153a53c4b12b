using System.Diagnostics;
using System.Globalization;
using Stargate.Host.Zones;

namespace Stargate.Bench;

/// <summary>
/// The host half of the directory-scaling part: the host library (Stargate.Host's Zone,
/// in this process) as the only writer of a zone of its own in /dev/shm, not served, so
/// that the figures are the library's own cost of a change (lookup, index, journal) with no
/// service, socket or guest in the way. Runs after every guest is gone. The same four
/// loops as `sgbench dirscale`, by path through <see cref="Names"/>, as `stargate` commands
/// do: create each file in /meta, stat each, rename f to r, unlink each, then remove /meta.
/// </summary>
public static class HostDirScale
{
    /// <summary>
    /// Every host figure of @sizes' directory sizes, over @sizes.Runs runs in @work (a fresh
    /// folder in /dev/shm, removed afterwards): interleaved as the guests' are, after one
    /// unmeasured run at the largest size, so that the JIT's compilations (tiered: the first
    /// calls are not yet optimized) are not counted. A failure fails every figure with its reason.
    /// </summary>
    public static IReadOnlyList<DirScaleMeasurement> Measure(BenchSizes sizes, string work, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        IReadOnlyList<int> files = sizes.DirScaleFiles ?? [];
        var runs = files.SelectMany(n => DirScaleSide.Operations.Select(op => (n, op))).ToDictionary(k => k, _ => new List<double>());
        string side = DirScaleSide.Host.Id;
        string zonePath = Path.Combine(work, "dirscale.zone");
        var clock = Stopwatch.StartNew();
        try
        {
            Directory.CreateDirectory(work);
            // The served zone's size, so that both sides have the same geometry.
            Zone.Format(zonePath, Harness.ZoneSize(sizes, dirScale: true));
            using var zone = Zone.Open(zonePath, ZoneAccess.ReadWrite, "stargate-bench");
            if (files.Count > 0)
            {
                RunOnce(zone, files.Max());
            }

            for (int run = 1; run <= sizes.Runs; run++)
            {
                foreach (int n in files)
                {
                    foreach (var (operation, cost) in RunRounds(zone, n, RoundsFor(n)))
                    {
                        runs[(n, operation)].Add(cost);
                    }
                }

                progress.WriteLine($"  dirscale host: run {run} of {sizes.Runs} done at {clock.Elapsed.TotalSeconds:0.0} s");
            }
        }
        catch (ZoneException e)
        {
            progress.WriteLine($"  dirscale host: failed: {e.Message}");
            return [.. runs.Keys.Select(k => DirScaleMeasurement.Failed(side, k.op, k.n, e.Message))];
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        return [.. runs.Select(r => DirScaleMeasurement.Of(side, r.Key.op, r.Key.n, r.Value))];
    }

    /// <summary>
    /// How many rounds one host figure at directory size @files takes: enough for
    /// <see cref="OperationsPerFigure"/> operations of each kind. One round at n = 100 lasts
    /// about half a millisecond, less than one garbage collection or one of this machine's
    /// stalls, and a single round's figure swung 1.5x between runs.
    /// </summary>
    public static int RoundsFor(int files) => Math.Max(1, OperationsPerFigure / Math.Max(1, files));

    /// <summary>Operations of each kind behind one host figure, whatever the directory's size.</summary>
    public const int OperationsPerFigure = 100_000;

    /// <summary>@rounds runs in a directory of @files files: the mean microseconds per operation over them all.</summary>
    public static IReadOnlyList<(string Operation, double Cost)> RunRounds(Zone zone, int files, int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var sums = new double[DirScaleSide.Operations.Count];
        for (int round = 0; round < rounds; round++)
        {
            var costs = RunOnce(zone, files);
            for (int k = 0; k < sums.Length; k++)
            {
                sums[k] += costs[k].Cost;
            }
        }

        return [.. DirScaleSide.Operations.Select((operation, k) => (operation, sums[k] / rounds))];
    }

    /// <summary>One run in a directory of @files files: microseconds per operation, in <see cref="DirScaleSide.Operations"/>' order.</summary>
    public static IReadOnlyList<(string Operation, double Cost)> RunOnce(Zone zone, int files)
    {
        ArgumentNullException.ThrowIfNull(zone);
        const string Dir = "/meta";
        var names = Enumerable.Range(0, files).Select(i => string.Create(CultureInfo.InvariantCulture, $"{Dir}/f{i:D6}")).ToArray();
        var targets = Enumerable.Range(0, files).Select(i => string.Create(CultureInfo.InvariantCulture, $"{Dir}/r{i:D6}")).ToArray();
        zone.Names.MakeDirectory(Dir);
        var costs = new List<(string, double)>();
        var clock = new Stopwatch();
        foreach (string operation in DirScaleSide.Operations)
        {
            clock.Restart();
            for (int i = 0; i < files; i++)
            {
                switch (operation)
                {
                    case "create": zone.Names.CreateFile(names[i]); break;
                    case "stat": zone.Names.Stat(names[i]); break;
                    case "rename": zone.Names.Rename(names[i], targets[i]); break;
                    default: zone.Names.Unlink(targets[i]); break;
                }
            }

            costs.Add((operation, clock.Elapsed.TotalMicroseconds / files));
        }

        zone.Names.RemoveDirectory(Dir);
        return costs;
    }
}
