using System.Globalization;

namespace Stargate.Bench;

/// <summary>
/// The guest half of the directory-scaling part, in the stargate file system's guest A:
/// `sgbench dirscale` on stargatefs (the served zone, <see cref="FileSystems.BenchFileSystem.Mount"/>)
/// and on a tmpfs of the same guest (<see cref="TmpfsMount"/>), for every directory size of
/// BenchSizes.DirScaleFiles, once per <see cref="RunOnce"/>. A side and size that fails is
/// recorded with its error and not run again.
/// </summary>
public sealed class GuestDirScale(BenchSizes sizes)
{
    /// <summary>Where the reference tmpfs is mounted in the guest.</summary>
    public const string TmpfsMount = "/mnt/dirscale-tmpfs";

    private readonly Dictionary<(string Side, string Operation, int Files), List<double>> _runs = [];
    private readonly Dictionary<(string Side, int Files), string> _errors = [];

    private IReadOnlyList<int> Files => sizes.DirScaleFiles ?? [];

    /// <summary>Mounts the reference tmpfs in @guest.</summary>
    public static void Prepare(BenchGuest guest) =>
        guest.Shell($"mkdir -p {TmpfsMount} && mount -t tmpfs -o size=25% dirscale {TmpfsMount}");

    /// <summary>One run of every side and size that has not failed, in @guest.</summary>
    public void RunOnce(BenchGuest guest, TextWriter progress)
    {
        foreach (int files in Files)
        {
            foreach (var (side, dir) in new[] { (DirScaleSide.GuestStargate, FileSystems.BenchFileSystem.Mount), (DirScaleSide.GuestTmpfs, TmpfsMount) })
            {
                if (_errors.ContainsKey((side.Id, files)))
                {
                    continue;
                }

                try
                {
                    // A run cut short leaves files behind; sgbench wants DIR/meta empty.
                    guest.Shell($"rm -rf {dir}/meta");
                    var costs = CostPerOperation(guest.Sgbench(string.Create(CultureInfo.InvariantCulture, $"dirscale {dir} {files}")), files);
                    foreach (var (operation, cost) in costs)
                    {
                        Runs(side.Id, operation, files).Add(cost);
                    }
                }
                catch (BenchException e)
                {
                    _errors[(side.Id, files)] = e.Message;
                    progress.WriteLine($"  dirscale {side.Id} n={files}: failed: {e.Message.Split('\n')[0]}");
                }
            }
        }
    }

    /// <summary>
    /// Every figure: measured, failed, or (a run cut short by @failure, the file system's own
    /// failure, or by the guest never booting) failed with that reason.
    /// </summary>
    public IReadOnlyList<DirScaleMeasurement> Results(string? failure)
    {
        var results = new List<DirScaleMeasurement>();
        foreach (var side in new[] { DirScaleSide.GuestStargate, DirScaleSide.GuestTmpfs })
        {
            foreach (int files in Files)
            {
                foreach (string operation in DirScaleSide.Operations)
                {
                    var runs = Runs(side.Id, operation, files);
                    results.Add(_errors.TryGetValue((side.Id, files), out string? error) ? DirScaleMeasurement.Failed(side.Id, operation, files, error)
                        : runs.Count == sizes.Runs ? DirScaleMeasurement.Of(side.Id, operation, files, runs)
                        : DirScaleMeasurement.Failed(side.Id, operation, files, failure ?? $"{runs.Count} of {sizes.Runs} runs were made"));
                }
            }
        }

        return results;
    }

    /// <summary>
    /// The microseconds per operation of `sgbench dirscale DIR @files`'s @result: its
    /// create_ns, stat_ns, rename_ns and unlink_ns over its ops, which must be @files.
    /// </summary>
    public static IReadOnlyList<(string Operation, double Cost)> CostPerOperation(SgbenchResult result, int files)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Text("workload") != "dirscale" || result.Number("ops") != files)
        {
            throw new BenchException($"expected sgbench dirscale of {files} files, got workload={result.Text("workload")} ops={result.Text("ops")}");
        }

        return DirScaleSide.Operations
            .Select(operation => (operation, Positive(result, operation + "_ns") / 1000.0 / files))
            .ToList();
    }

    private static long Positive(SgbenchResult result, string key) =>
        result.Number(key) is > 0 and long ns ? ns : throw new BenchException($"sgbench dirscale measured no time for {key}");

    private List<double> Runs(string side, string operation, int files)
    {
        if (!_runs.TryGetValue((side, operation, files), out var runs))
        {
            runs = [];
            _runs[(side, operation, files)] = runs;
        }

        return runs;
    }
}
