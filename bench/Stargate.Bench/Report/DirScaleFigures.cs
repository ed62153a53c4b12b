namespace Stargate.Bench.Report;

/// <summary>How the reports read the directory-scaling part: one definition for its table, its growth ratios and its chart.</summary>
public static class DirScaleFigures
{
    /// <summary>Issue 14's goal: the cost per operation at the largest directory at most this many times the cost at the smallest.</summary>
    public const double GrowthGoal = 1.5;

    /// <summary>The directory size the goal is stated at.</summary>
    public const int GoalFiles = 100_000;

    /// <summary>The directory sizes @run has figures or failures for, ascending (empty without the part).</summary>
    public static IReadOnlyList<int> Files(BenchRun run) =>
        (run.DirScale ?? []).Select(m => m.Files).Distinct().Order().ToList();

    /// <summary>The entry of (@side, @operation, @files), or null when the run has none.</summary>
    public static DirScaleMeasurement? Find(BenchRun run, DirScaleSide side, string operation, int files) =>
        run.DirScale?.FirstOrDefault(m => m.Side == side.Id && m.Operation == operation && m.Files == files);

    /// <summary>The median of (@side, @operation, @files), or null when it was not measured or failed.</summary>
    public static double? Median(BenchRun run, DirScaleSide side, string operation, int files) =>
        Find(run, side, operation, files) is { Error: null, Median: double median } ? median : null;

    /// <summary>
    /// How the cost of @operation on @side grew from the smallest directory to the largest: the
    /// median at the largest size over the median at the smallest. Null when the run has fewer
    /// than two sizes or either median is missing or not positive.
    /// </summary>
    public static double? Growth(BenchRun run, DirScaleSide side, string operation)
    {
        var files = Files(run);
        if (files.Count < 2 || Median(run, side, operation, files[0]) is not double small || Median(run, side, operation, files[^1]) is not double large
            || small <= 0 || large <= 0)
        {
            return null;
        }

        return large / small;
    }

    /// <summary>Whether a growth of @growth meets <see cref="GrowthGoal"/>.</summary>
    public static bool MeetsGoal(double growth) => growth <= GrowthGoal;
}
