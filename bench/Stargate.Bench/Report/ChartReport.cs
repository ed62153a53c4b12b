using System.Globalization;
using System.Text;

namespace Stargate.Bench.Report;

/// <summary>
/// bench/results/NAME.png: the throughput workloads as a grouped bar chart, one bar per file system,
/// its median on a log scale with the min–max spread as an error bar. Drawn by gnuplot (pngcairo).
/// </summary>
public static class ChartReport
{
    private const int Width = 1200;

    private const int Height = 600;

    /// <summary>One colour per file system, in the run's order (Paul Tol's bright scheme, readable when printed grey).</summary>
    internal static readonly string[] Colours =
        ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB", "#332288"];

    /// <summary>
    /// Writes the chart to @pngPath (replacing it). A workload a file system did not measure, or failed,
    /// has no bar. Throws InvalidOperationException when gnuplot is missing or fails; @pngPath is then untouched.
    /// </summary>
    public static void Render(BenchRun run, string pngPath)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        Gnuplot.Draw(pngPath, (folder, png) =>
        {
            string data = Path.Combine(folder, "throughput.dat");
            File.WriteAllText(data, DataFile(run));
            return Script(run, data, png);
        });
    }

    /// <summary>A row per throughput workload: its index, then median, min and max per file system ("?" where there is none).</summary>
    private static string DataFile(BenchRun run)
    {
        var text = new StringBuilder();
        text.Append("# workload");
        foreach (var fs in run.FileSystems)
        {
            text.Append(CultureInfo.InvariantCulture, $" {fs.Id}:median,min,max");
        }

        text.Append('\n');
        for (int i = 0; i < Workload.Throughput.Count; i++)
        {
            text.Append(i.ToString(CultureInfo.InvariantCulture));
            foreach (var fs in run.FileSystems)
            {
                text.Append(Bar(run, fs.Id, Workload.Throughput[i]) is var (median, min, max)
                    ? $" {Gnuplot.Number(median)} {Gnuplot.Number(min)} {Gnuplot.Number(max)}"
                    : " ? ? ?");
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static string Script(BenchRun run, string data, string png)
    {
        var bars = Workload.Throughput
            .SelectMany(w => run.FileSystems.Select(fs => Bar(run, fs.Id, w)))
            .OfType<(double Median, double Min, double Max)>()
            .ToList();
        var gp = new StringBuilder();
        gp.Append("set encoding utf8\n");
        gp.Append(CultureInfo.InvariantCulture, $"set terminal pngcairo size {Width},{Height} noenhanced font \"sans,11\"\n");
        gp.Append(CultureInfo.InvariantCulture, $"set output {Gnuplot.Quote(png)}\n");
        gp.Append(CultureInfo.InvariantCulture, $"set title {Gnuplot.Quote($"Stargate benchmark: {run.Name}, throughput (median of {run.Sizes.Runs} runs, bars min–max)")}\n");
        gp.Append("set ylabel \"MiB/s, log scale\"\n");
        gp.Append("set logscale y\n");
        gp.Append("set grid ytics\n");
        gp.Append("set bmargin 5\n");
        gp.Append("set key outside right top vertical\n");
        gp.Append(CultureInfo.InvariantCulture, $"set xrange [-0.5:{Workload.Throughput.Count - 0.5}]\n");
        gp.Append("set xtics (")
          .AppendJoin(", ", Workload.Throughput.Select((w, i) => $"{Gnuplot.Quote(w.Label.Replace(", ", "\n", StringComparison.Ordinal))} {i}"))
          .Append(")\n");
        if (bars.Count == 0)
        {
            gp.Append("set yrange [1:10]\n");
            gp.Append("set label \"no throughput figure was measured in this run\" at graph 0.5, graph 0.5 center\n");
            gp.Append("plot NaN notitle\n");
            return gp.ToString();
        }

        // The axis starts a decade below the lowest bar, so that even that bar has a height.
        double lowest = Math.Pow(10, Math.Ceiling(Math.Log10(bars.Min(b => b.Min))) - 1);
        gp.Append(CultureInfo.InvariantCulture, $"set yrange [{Gnuplot.Number(lowest)}:*]\n");
        gp.Append("set datafile missing \"?\"\n");
        gp.Append("set style data histograms\n");
        gp.Append("set style histogram errorbars gap 1 lw 1\n");
        gp.Append("set style fill solid 0.85 border -1\n");
        // A file system without a single bar takes no slot in the groups; the key still names it.
        var clauses = new List<string>();
        var missing = new List<string>();
        for (int i = 0; i < run.FileSystems.Count; i++)
        {
            var fs = run.FileSystems[i];
            if (!Workload.Throughput.Any(w => Bar(run, fs.Id, w) is not null))
            {
                missing.Add($"keyentry with boxes fc rgb '#FFFFFF' title {Gnuplot.Quote($"{fs.Label} (no figure)")}");
                continue;
            }

            int column = 2 + (3 * i);
            clauses.Add(string.Create(CultureInfo.InvariantCulture,
                $"{(clauses.Count == 0 ? Gnuplot.Quote(data) : "''")} using {column}:{column + 1}:{column + 2} title {Gnuplot.Quote(fs.Label)} lc rgb '{Colours[i % Colours.Length]}'"));
        }

        gp.Append("plot ").AppendJoin(", ", clauses.Concat(missing));
        gp.Append('\n');
        return gp.ToString();
    }

    /// <summary>The bar of (@fileSystem, @workload), or null when it has none (not measured, failed, or not positive on a log scale).</summary>
    private static (double Median, double Min, double Max)? Bar(BenchRun run, string fileSystem, Workload workload) =>
        Figures.Find(run, fileSystem, workload) is { Error: null, Median: double median, Min: double min, Max: double max }
            && min > 0 && double.IsFinite(max)
            ? (median, min, max)
            : null;
}
