using System.Globalization;
using System.Text;

namespace Stargate.Bench.Report;

/// <summary>
/// bench/results/NAME-dirscale.png: the directory-scaling part, one panel per operation, the
/// cost per operation (µs, log scale) against the directory's size n (log scale), a line per
/// side through its medians with the min–max spread as error bars. A flat line is the goal.
/// Drawn by gnuplot (pngcairo).
/// </summary>
public static class DirScaleChart
{
    private const int Width = 1200;

    private const int Height = 800;

    /// <summary>
    /// Writes the chart of @run's directory-scaling part to @pngPath (replacing it); a figure
    /// that failed or is missing leaves a gap. Throws InvalidOperationException when gnuplot is
    /// missing or fails; @pngPath is then untouched.
    /// </summary>
    public static void Render(BenchRun run, string pngPath)
    {
        ArgumentNullException.ThrowIfNull(run);
        Gnuplot.Draw(pngPath, (folder, png) =>
        {
            var data = new List<string>();
            foreach (string operation in DirScaleSide.Operations)
            {
                string path = Path.Combine(folder, $"{operation}.dat");
                File.WriteAllText(path, DataFile(run, operation));
                data.Add(path);
            }

            return Script(run, data, png);
        });
    }

    /// <summary>A row per directory size: n, then median, min and max per side ("?" where there is none).</summary>
    public static string DataFile(BenchRun run, string operation)
    {
        ArgumentNullException.ThrowIfNull(run);
        var text = new StringBuilder("# n");
        foreach (var side in DirScaleSide.All)
        {
            text.Append(CultureInfo.InvariantCulture, $" {side.Id}:median,min,max");
        }

        text.Append('\n');
        foreach (int n in DirScaleFigures.Files(run))
        {
            text.Append(n.ToString(CultureInfo.InvariantCulture));
            foreach (var side in DirScaleSide.All)
            {
                text.Append(DirScaleFigures.Find(run, side, operation, n) is { Error: null, Median: double median, Min: double min, Max: double max } && min > 0
                    ? $" {Gnuplot.Number(median)} {Gnuplot.Number(min)} {Gnuplot.Number(max)}"
                    : " ? ? ?");
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static string Script(BenchRun run, List<string> data, string png)
    {
        var files = DirScaleFigures.Files(run);
        var gp = new StringBuilder();
        gp.Append("set encoding utf8\n");
        gp.Append(CultureInfo.InvariantCulture, $"set terminal pngcairo size {Width},{Height} noenhanced font \"sans,11\"\n");
        gp.Append(CultureInfo.InvariantCulture, $"set output {Gnuplot.Quote(png)}\n");
        gp.Append("set datafile missing \"?\"\n");
        gp.Append("set logscale xy\n");
        gp.Append("set grid xtics ytics\n");
        gp.Append("set xlabel \"files in the directory (n), log scale\"\n");
        gp.Append("set ylabel \"µs per operation, log scale\"\n");
        // Room either side (a factor of 2), so that the first and last points are not on the frame.
        gp.Append(files.Count > 0
            ? $"set xrange [{Gnuplot.Number(files[0] / 2.0)}:{Gnuplot.Number(files[^1] * 2.0)}]\n"
            : "set xrange [10:1000]\n");

        // One key for the four panels, in a row under the title.
        gp.Append("set key horizontal center top at screen 0.5, screen 0.955\n");
        gp.Append(CultureInfo.InvariantCulture,
            $"set multiplot layout 2,2 margins 0.07, 0.98, 0.07, 0.87 spacing 0.08, 0.15 title {Gnuplot.Quote($"Stargate benchmark: {run.Name}, cost per operation in one directory of n files (median of {run.Sizes.Runs} runs, bars min–max)")}\n");
        for (int i = 0; i < DirScaleSide.Operations.Count; i++)
        {
            gp.Append(CultureInfo.InvariantCulture, $"set title {Gnuplot.Quote(DirScaleSide.Operations[i])}\n");
            if (files.Count == 0 || !DirScaleSide.All.Any(s => files.Any(n => DirScaleFigures.Median(run, s, DirScaleSide.Operations[i], n) is > 0)))
            {
                gp.Append("set label 1 \"no figure\" at graph 0.5, graph 0.5 center\n");
                gp.Append("set yrange [1:10]\nplot NaN notitle\nunset label 1\nset autoscale y\n");
                continue;
            }

            var clauses = new List<string>();
            for (int s = 0; s < DirScaleSide.All.Count; s++)
            {
                int column = 2 + (3 * s);
                string colour = ChartReport.Colours[s % ChartReport.Colours.Length];
                clauses.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{Gnuplot.Quote(data[i])} using 1:{column}:{column + 1}:{column + 2} with yerrorlines lw 2 pt 7 lc rgb '{colour}' title {Gnuplot.Quote(DirScaleSide.All[s].Label)}"));
            }

            gp.Append("plot ").AppendJoin(", ", clauses).Append('\n');
            gp.Append("unset key\n");
        }

        gp.Append("unset multiplot\n");
        return gp.ToString();
    }
}
