using System.Globalization;
using System.Text;

namespace Stargate.Bench.Report;

/// <summary>
/// The directory-scaling section of NAME.md: the cost per operation against the directory's
/// size on each side (table 4), how it grew from the smallest size to the largest against
/// issue 14's goal (table 5), and the chart NAME-dirscale.png. Deterministic, as MarkdownReport.
/// </summary>
public static class DirScaleReport
{
    /// <summary>The chart's file name beside NAME.md.</summary>
    public static string ChartName(BenchRun run) => $"{run?.Name}-dirscale.png";

    /// <summary>Appends the section to @md; nothing when @run has no directory-scaling part.</summary>
    public static void Write(StringBuilder md, BenchRun run)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(run);
        if (run.DirScale is null)
        {
            return;
        }

        var files = DirScaleFigures.Files(run);
        md.Append(run.Results.Count > 0 ? "\n" : string.Empty).Append("## Directories that scale\n\n");
        md.Append("Create, stat, rename and unlink of n files in one directory (`sgbench dirscale` in the stargate guest, on stargatefs ")
          .Append("and on a tmpfs of the same guest; the host library writing a zone of the same size in process, not served). ")
          .Append(CultureInfo.InvariantCulture, $"A guest run makes the n files once; a host run repeats the four loops until each operation ran at least {HostDirScale.OperationsPerFigure:N0} times, so a figure at small n is not one half-millisecond loop. ");
        md.Append(CultureInfo.InvariantCulture, $"Each figure is the median of {run.Sizes.Runs} runs, with their spread (min–max) in brackets.\n\n");
        if (files.Count == 0)
        {
            md.Append("The run has no figure of this part.\n");
            return;
        }

        var notes = new List<string>();
        md.Append("Table 4. Microseconds per operation against the directory's size n; a numbered note where a figure failed.\n\n");
        MarkdownReport.WriteHeader(md, ["Operation", "n", .. DirScaleSide.All.Select(s => s.Label)]);
        foreach (string operation in DirScaleSide.Operations)
        {
            foreach (int n in files)
            {
                var cells = new List<string> { operation, Thousands(n) };
                foreach (var side in DirScaleSide.All)
                {
                    var m = DirScaleFigures.Find(run, side, operation, n);
                    if (m is { Error: not null })
                    {
                        string note = $"{side.Label}, n = {Thousands(n)}: {MarkdownReport.Escape(MarkdownReport.OneLine(m.Error))}";
                        int index = notes.IndexOf(note);
                        if (index < 0)
                        {
                            notes.Add(note);
                            index = notes.Count - 1;
                        }

                        cells.Add($"failed [{index + 1}]");
                    }
                    else if (m is { Median: double median, Min: double min, Max: double max })
                    {
                        cells.Add($"{Figures.ThreeDigits(median)} ({Figures.ThreeDigits(min)}–{Figures.ThreeDigits(max)})");
                    }
                    else
                    {
                        cells.Add(MarkdownReport.NoFigure);
                    }
                }

                MarkdownReport.WriteRow(md, cells);
            }
        }

        md.Append('\n');
        for (int i = 0; i < notes.Count; i++)
        {
            md.Append(CultureInfo.InvariantCulture, $"- [{i + 1}] {notes[i]}\n");
        }

        if (notes.Count > 0)
        {
            md.Append('\n');
        }

        WriteGrowth(md, run, files);
        md.Append(CultureInfo.InvariantCulture, $"![cost per operation against the directory's size]({ChartName(run)})\n");
    }

    private static void WriteGrowth(StringBuilder md, BenchRun run, IReadOnlyList<int> files)
    {
        if (files.Count < 2)
        {
            md.Append("The run has one directory size only, so there is no growth to give.\n\n");
            return;
        }

        md.Append(CultureInfo.InvariantCulture,
            $"Table 5. How the cost per operation grew: its median at n = {Thousands(files[^1])} over its median at n = {Thousands(files[0])}. ");
        md.Append(CultureInfo.InvariantCulture,
            $"The goal (issue 14) is at most {DirScaleFigures.GrowthGoal:0.0#}x on stargatefs and on the host at n = {Thousands(DirScaleFigures.GoalFiles)}; tmpfs is the reference");
        md.Append(files[^1] < DirScaleFigures.GoalFiles
            ? string.Create(CultureInfo.InvariantCulture, $". This run stops at n = {Thousands(files[^1])} (the full run adds {Thousands(DirScaleFigures.GoalFiles)}), so met or not met here is at its largest size.\n\n")
            : ".\n\n");
        MarkdownReport.WriteHeader(md, ["Operation", .. DirScaleSide.All.Select(s => s.Label)]);
        foreach (string operation in DirScaleSide.Operations)
        {
            var cells = new List<string> { operation };
            foreach (var side in DirScaleSide.All)
            {
                cells.Add(DirScaleFigures.Growth(run, side, operation) switch
                {
                    null => MarkdownReport.NoFigure,
                    double g when !side.HasGoal => Figures.Times(g),
                    double g => $"{Figures.Times(g)}, {(DirScaleFigures.MeetsGoal(g) ? "met" : "not met")}",
                });
            }

            MarkdownReport.WriteRow(md, cells);
        }

        md.Append('\n');
    }

    /// <summary>@n with thousands separated by commas (10,000), as the issue writes them.</summary>
    private static string Thousands(int n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
