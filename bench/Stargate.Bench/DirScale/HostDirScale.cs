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
                    foreach (var (operation, cost) in RunOnce(zone, n))
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
