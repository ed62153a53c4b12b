using System.Globalization;

namespace Stargate.Bench.Report;

/// <summary>How the reports look figures up and write them: one definition for the table, the ratios and the chart.</summary>
public static class Figures
{
    /// <summary>The file system every ratio puts in the numerator.</summary>
    public const string Stargate = "stargate";

    /// <summary>Stargate through mmap: a mode of Stargate, not a baseline to compare it with.</summary>
    public const string StargateMmap = "stargate-mmap";

    public const string Tmpfs = "tmpfs";

    /// <summary>The median of (@fileSystem, @workload), or null when that pair was not measured or failed.</summary>
    public static double? Median(BenchRun run, string fileSystem, Workload workload)
    {
        var m = Find(run, fileSystem, workload);
        return m is { Error: null, Median: double median } ? median : null;
    }

    /// <summary>The workloads, in table order, that @run has a result for (a run made before a workload existed has none).</summary>
    public static IReadOnlyList<Workload> Measured(BenchRun run) =>
        Workload.All.Where(w => run.Results.Any(m => m.Workload == w.Id)).ToList();

    /// <summary>The result of (@fileSystem, @workload), or null when the run has none.</summary>
    public static Measurement? Find(BenchRun run, string fileSystem, Workload workload) =>
        run.Results.FirstOrDefault(m => m.FileSystem == fileSystem && m.Workload == workload.Id);

    /// <summary>
    /// How many times better @fileSystem is than @baseline on @workload: their medians' quotient, turned
    /// round for a workload where lower is better, so that above 1 always means @fileSystem is better.
    /// Null when either median is missing or not positive.
    /// </summary>
    public static double? Ratio(BenchRun run, string fileSystem, string baseline, Workload workload)
    {
        if (Median(run, fileSystem, workload) is not double mine || Median(run, baseline, workload) is not double theirs
            || mine <= 0 || theirs <= 0)
        {
            return null;
        }

        return workload.HigherIsBetter ? mine / theirs : theirs / mine;
    }

    /// <summary>@value with three significant digits, in invariant culture (1230, 12.3, 0.0123).</summary>
    public static string ThreeDigits(double value)
    {
        if (value == 0 || !double.IsFinite(value))
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }

        // Round first, then count decimals from the rounded value: 9.996 becomes 10.0, not 10.00.
        double rounded = RoundToSignificant(value, 3);
        int magnitude = (int)Math.Floor(Math.Log10(Math.Abs(rounded)));
        int decimals = Math.Max(0, 2 - magnitude);
        return rounded.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>A ratio as the tables write it: 12.3x.</summary>
    public static string Times(double ratio) => ThreeDigits(ratio) + "x";

    private static double RoundToSignificant(double value, int digits)
    {
        int magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        int shift = digits - 1 - magnitude;
        return shift >= 0
            ? Math.Round(value * Math.Pow(10, shift), MidpointRounding.AwayFromZero) / Math.Pow(10, shift)
            : Math.Round(value / Math.Pow(10, -shift), MidpointRounding.AwayFromZero) * Math.Pow(10, -shift);
    }
}
