using System.Globalization;
using System.Text;

namespace Stargate.Bench.Report;

/// <summary>
/// bench/results/NAME.md: what was measured where, the figures, Stargate's ratios against each file
/// system and the goals. Deterministic: the same run always gives the same text (no clock, invariant culture).
/// </summary>
public static class MarkdownReport
{
    /// <summary>The workloads that move file data, where Stargate's mmap mode is compared with guest tmpfs.</summary>
    private static readonly IReadOnlyList<Workload> DataWorkloads =
        [Workload.SeqWrite, Workload.SeqRead, Workload.RandWrite, Workload.RandRead, Workload.MmapRead];

    /// <summary>The paper's throughput ratios of Stargate over each file system, by file system id.</summary>
    private static readonly (string Goal, string FileSystem)[] PaperRatios =
        [("64x VirtFS (9p)", "9p"), ("172x Samba", "samba"), ("191x NFS", "nfs")];

    private const double ReadGoal = 0.9;

    private const int ErrorChars = 300;

    internal const string NoFigure = "–";

    public static string Render(BenchRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# Stargate benchmark: {Escape(run.Name)}\n\n");
        WriteSetting(md, run);
        WriteFileSystems(md, run);
        // A run of the directory-scaling part alone (--parts dirscale) has no workload to tabulate.
        if (run.DirScale is null || run.Results.Count > 0)
        {
            WriteResults(md, run);
            WriteRatios(md, run);
            WriteGoals(md, run);
            md.Append(CultureInfo.InvariantCulture, $"![throughput]({run.Name}.png)\n");
        }

        DirScaleReport.Write(md, run);
        WriteRequestSteps(md, run);
        return md.ToString();
    }

    private static void WriteSetting(StringBuilder md, BenchRun run)
    {
        var m = run.Machine;
        var s = run.Sizes;
        md.Append(CultureInfo.InvariantCulture,
            $"Measured on a host with {Count(m.Cpus, "CPU")} ({Escape(m.CpuModel)}), {ThreeDigitsOrWhole(m.MemoryGiB)} GiB of RAM and kernel {Escape(m.HostKernel)}. ");
        md.Append(CultureInfo.InvariantCulture,
            $"Every guest ran kernel {Escape(m.GuestKernel)} in QEMU {Escape(m.QemuVersion)} under {Escape(m.Accelerator.ToUpperInvariant())}, with {Escape(m.GuestMemory)} of RAM and {Count(m.GuestCpus, "vCPU")}. ");
        md.Append(CultureInfo.InvariantCulture,
            $"Sizes: a {s.FileMiB} MiB file in {Bytes(s.SequentialRequestBytes)} sequential requests, {s.RandomOps} random {Bytes(s.RandomRequestBytes)} requests per run, ");
        md.Append(CultureInfo.InvariantCulture,
            $"{s.MetadataFiles} small files for the metadata workloads, {s.TransferMiB} MiB sent from one guest to another and {s.LatencyRounds} latency round trips. ");
        md.Append(CultureInfo.InvariantCulture,
            $"Each figure is the median of {s.Runs} runs, with their spread (min–max) in brackets. ");
        md.Append(CultureInfo.InvariantCulture,
            $"The {Escape(run.Mode)} run started {run.Started.ToUniversalTime():yyyy-MM-dd HH:mm} UTC and took {Duration(run.DurationSeconds)}, at commit {Escape(run.Commit)}.\n\n");
    }

    private static void WriteFileSystems(StringBuilder md, BenchRun run)
    {
        md.Append("File systems:\n\n");
        foreach (var fs in run.FileSystems)
        {
            md.Append(CultureInfo.InvariantCulture, $"- **{Escape(fs.Label)}** ({Escape(fs.Id)}): {Escape(fs.Setup)}");
            if (fs.Error is not null)
            {
                md.Append(CultureInfo.InvariantCulture, $" **Error:** {Escape(OneLine(fs.Error))}");
            }

            md.Append('\n');
        }

        md.Append('\n');
    }

    private static void WriteResults(StringBuilder md, BenchRun run)
    {
        md.Append("## Results\n\n");
        md.Append(CultureInfo.InvariantCulture,
            $"Table 1. Each file system on each workload: median (min–max); {NoFigure} where the workload does not apply to it, and a numbered note where it failed.\n\n");
        WriteHeader(md, ["Workload", .. run.FileSystems.Select(fs => Escape(fs.Label))]);

        // A failed cell's note number; a file system that failed as a whole has one note for all its cells.
        var notes = new List<string>();
        var fileSystemNotes = new Dictionary<string, int>();
        foreach (var workload in Figures.Measured(run))
        {
            var cells = new List<string> { $"{Escape(workload.Label)} ({Escape(workload.Unit)})" };
            foreach (var fs in run.FileSystems)
            {
                var m = Figures.Find(run, fs.Id, workload);
                if (m is { Error: not null })
                {
                    notes.Add($"{Escape(fs.Label)}, {Escape(workload.Label)}: {Escape(OneLine(m.Error))}");
                    cells.Add($"failed [{notes.Count}]");
                }
                else if (m is { Median: double median, Min: double min, Max: double max })
                {
                    cells.Add($"{Figures.ThreeDigits(median)} ({Figures.ThreeDigits(min)}–{Figures.ThreeDigits(max)})");
                }
                else if (fs.Error is not null)
                {
                    if (!fileSystemNotes.TryGetValue(fs.Id, out int note))
                    {
                        notes.Add($"{Escape(fs.Label)}: {Escape(OneLine(fs.Error))}");
                        note = notes.Count;
                        fileSystemNotes[fs.Id] = note;
                    }

                    cells.Add($"failed [{note}]");
                }
                else
                {
                    cells.Add(NoFigure);
                }
            }

            WriteRow(md, cells);
        }

        md.Append('\n');
        if (notes.Count > 0)
        {
            for (int i = 0; i < notes.Count; i++)
            {
                md.Append(CultureInfo.InvariantCulture, $"- [{i + 1}] {notes[i]}\n");
            }

            md.Append('\n');
        }
    }

    private static void WriteRatios(StringBuilder md, BenchRun run)
    {
        md.Append("## Stargate against each file system\n\n");
        if (!HasFileSystem(run, Figures.Stargate))
        {
            md.Append("The run has no stargate file system, so there is nothing to compare.\n\n");
            return;
        }

        var baselines = run.FileSystems
            .Where(fs => fs.Id is not (Figures.Stargate or Figures.StargateMmap))
            .ToList();
        bool mmapColumn = HasFileSystem(run, Figures.StargateMmap) && HasFileSystem(run, Figures.Tmpfs);
        md.Append("Table 2. How many times better Stargate did than each file system: Stargate's median over the other's, ")
          .Append("or the other's over Stargate's where lower is better (latency), so that above 1x always means Stargate is better. ");
        if (mmapColumn)
        {
            md.Append("The last column compares Stargate's mmap mode with guest tmpfs the same way, on the workloads that move file data. ");
        }

        md.Append(CultureInfo.InvariantCulture, $"{NoFigure} where either figure is missing.\n\n");

        var header = new List<string> { "Workload" };
        header.AddRange(baselines.Select(fs => $"stargate ÷ {Escape(fs.Id)}"));
        if (mmapColumn)
        {
            header.Add("stargate-mmap ÷ tmpfs");
        }

        WriteHeader(md, header);
        foreach (var workload in Figures.Measured(run))
        {
            var cells = new List<string> { Escape(workload.Label) };
            cells.AddRange(baselines.Select(fs => RatioCell(Figures.Ratio(run, Figures.Stargate, fs.Id, workload))));
            if (mmapColumn)
            {
                cells.Add(DataWorkloads.Contains(workload)
                    ? RatioCell(Figures.Ratio(run, Figures.StargateMmap, Figures.Tmpfs, workload))
                    : NoFigure);
            }

            WriteRow(md, cells);
        }

        md.Append('\n');
    }

    private static void WriteGoals(StringBuilder md, BenchRun run)
    {
        md.Append("## Goals\n\n");
        md.Append(CultureInfo.InvariantCulture,
            $"Table 3. Stargate's goals of reading at {ReadGoal:0.0#}x guest tmpfs or better and of metadata against guest tmpfs, and the paper's throughput ratios ")
          .Append("beside what this run gives for sequential read and for the transfer between two guests.\n\n");
        WriteHeader(md, ["Goal", "This run", "Met"]);
        WriteGoalRow(md, "Stargate read ≥ 0.9x guest tmpfs", "sequential read",
            Figures.Ratio(run, Figures.Stargate, Figures.Tmpfs, Workload.SeqRead), ReadGoal);
        WriteGoalRow(md, "Stargate mmap ≥ 0.9x guest tmpfs", "mmap read",
            Figures.Ratio(run, Figures.Stargate, Figures.Tmpfs, Workload.MmapRead), ReadGoal);
        foreach (var (workload, goal) in MetadataGoals)
        {
            WriteGoalRow(md, $"Stargate {workload.Label} ≥ {goal:0.0#}x guest tmpfs", workload.Label,
                Figures.Ratio(run, Figures.Stargate, Figures.Tmpfs, workload), goal);
        }

        foreach (var (goal, fileSystem) in PaperRatios)
        {
            var read = Figures.Ratio(run, Figures.Stargate, fileSystem, Workload.SeqRead);
            var transfer = Figures.Ratio(run, Figures.Stargate, fileSystem, Workload.Transfer);
            WriteRow(md, [goal, $"sequential read {RatioCell(read)}, transfer {RatioCell(transfer)}", NoFigure]);
        }

        md.Append('\n');
    }

    /// <summary>Issue 14's metadata goals: Stargate's figure over guest tmpfs's.</summary>
    private static readonly (Workload Workload, double Goal)[] MetadataGoals =
        [(Workload.Create, 0.5), (Workload.Unlink, 0.5), (Workload.Stat, 0.8), (Workload.Readdir, 1.0)];

    private static void WriteGoalRow(StringBuilder md, string goal, string workload, double? ratio, double threshold)
    {
        string met = ratio switch
        {
            null => "not measured",
            double r when r >= threshold => "met",
            _ => "not met",
        };
        WriteRow(md, [goal, $"{workload} {RatioCell(ratio)}", met]);
    }

    /// <summary>Table 6 (after the directory-scaling part's 4 and 5): the request round trip by step, one column per Stargate file system that counted it.</summary>
    private static void WriteRequestSteps(StringBuilder md, BenchRun run)
    {
        if (run.RequestSteps is not { Count: > 0 } steps)
        {
            return;
        }

        md.Append("\n## The request round trip\n\n");
        md.Append("Table 6. One request's round trip on Stargate by step, µs per request, from the module's and the service's counters around the median run of the round-trip workload ")
          .Append("(docs/requests.md \"Polling\" says what each counts; transit is what neither side sees: the doorbell's way to the service and the reply's way back).\n\n");
        WriteHeader(md, ["Step", .. steps.Select(s => Escape(run.FileSystems.FirstOrDefault(fs => fs.Id == s.FileSystem)?.Label ?? s.FileSystem))]);
        (string Label, Func<RequestSteps, string> Cell)[] rows =
        [
            ("fchmod round trip (median)", s => Figures.ThreeDigits(s.RoundTripUs)),
            ("guest: enqueue (tag, slot)", s => Figures.ThreeDigits(s.EnqueueUs)),
            ("guest: doorbell write", s => Figures.ThreeDigits(s.DoorbellUs)),
            ("guest: wait for the reply", s => Figures.ThreeDigits(s.WaitUs)),
            ("  service: pickup (wake-up to change)", s => Figures.ThreeDigits(s.HostPickupUs)),
            ("  service: change (journalled)", s => Figures.ThreeDigits(s.HostChangeUs)),
            ("  service: reply (done, ring)", s => Figures.ThreeDigits(s.HostReplyUs)),
            ("  guest: wake-up from vector 0", s => Figures.ThreeDigits(s.GuestWakeUs)),
            ("  transit (doorbell and reply delivery)", s => Figures.ThreeDigits(s.TransitUs)),
            ("replies found by polling", s => $"{s.PolledShare * 100:0}%"),
            ("requests counted", s => s.Requests.ToString(CultureInfo.InvariantCulture)),
        ];
        foreach (var (label, cell) in rows)
        {
            WriteRow(md, [label, .. steps.Select(cell)]);
        }

        md.Append('\n');
    }

    private static bool HasFileSystem(BenchRun run, string id) => run.FileSystems.Any(fs => fs.Id == id);

    private static string RatioCell(double? ratio) => ratio is double r ? Figures.Times(r) : NoFigure;

    /// <summary>A header row and the alignment row: the first column left, the figures right.</summary>
    internal static void WriteHeader(StringBuilder md, List<string> columns)
    {
        WriteRow(md, columns);
        WriteRow(md, [":--", .. Enumerable.Repeat("--:", columns.Count - 1)]);
    }

    internal static void WriteRow(StringBuilder md, IEnumerable<string> cells) =>
        md.Append("| ").AppendJoin(" | ", cells).Append(" |\n");

    /// <summary>A message on one line (whitespace runs become one space), cut to <see cref="ErrorChars"/> characters.</summary>
    internal static string OneLine(string text)
    {
        string line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= ErrorChars ? line : string.Concat(line.AsSpan(0, ErrorChars - 1), "…");
    }

    /// <summary>Text from the run, escaped so that Markdown shows it as written (and a | cannot split a table cell).</summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '#')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    private static string Count(int n, string thing) => n == 1 ? $"1 {thing}" : $"{n} {thing}s";

    private static string Bytes(int bytes) => bytes switch
    {
        _ when bytes % (1 << 20) == 0 => $"{bytes >> 20} MiB",
        _ when bytes % (1 << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    private static string ThreeDigitsOrWhole(double value) =>
        value == Math.Round(value) ? value.ToString("0", CultureInfo.InvariantCulture) : Figures.ThreeDigits(value);

    private static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:00} min"
            : t.TotalMinutes >= 1 ? $"{t.Minutes} min {t.Seconds:00} s"
            : $"{t.Seconds} s";
    }
}
