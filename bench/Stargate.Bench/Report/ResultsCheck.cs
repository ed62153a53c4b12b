namespace Stargate.Bench.Report;

/// <summary>
/// Whether a run is well formed: every field the reports read is there and plausible, and every figure
/// agrees with its runs. It judges the shape of the results, never whether the numbers are good.
/// </summary>
public static class ResultsCheck
{
    private static readonly string[] Accelerators = ["tcg", "kvm"];

    /// <summary>Every way @run is malformed, one sentence each; empty when it is well formed.</summary>
    public static IReadOnlyList<string> Problems(BenchRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var problems = new List<string>();
        CheckRun(run, problems);
        CheckMachine(run.Machine, problems);
        CheckSizes(run.Sizes, problems);
        CheckFileSystems(run.FileSystems, problems);
        CheckResults(run, problems);
        CheckDirScale(run, problems);
        return problems;
    }

    /// <summary>
    /// As <see cref="Problems(BenchRun)"/>, and also every workload listed for a file system in
    /// @expectedWorkloadsByFs (file system id to workload ids) must have a result that did not fail.
    /// </summary>
    public static IReadOnlyList<string> Problems(BenchRun run, IReadOnlyDictionary<string, IReadOnlyList<string>> expectedWorkloadsByFs)
    {
        ArgumentNullException.ThrowIfNull(expectedWorkloadsByFs);
        var problems = Problems(run).ToList();
        foreach (var (fs, workloads) in expectedWorkloadsByFs.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (run.FileSystems?.Any(f => f?.Id == fs) != true)
            {
                problems.Add($"file system {fs} is expected but not in the run");
            }

            foreach (var workload in workloads.Select(Workload.ById))
            {
                var results = run.Results?.Where(m => m?.FileSystem == fs && m.Workload == workload.Id).ToList() ?? [];
                if (results.Count == 0)
                {
                    problems.Add($"{fs}, {workload.Id}: expected a result, the run has none");
                }
                else if (results.FirstOrDefault(m => m.Error is not null) is { } failed)
                {
                    problems.Add($"{fs}, {workload.Id}: expected a figure, it failed: {failed.Error}");
                }
            }
        }

        return problems;
    }

    private static void CheckRun(BenchRun run, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(run.Name))
        {
            problems.Add("name is empty");
        }
        else if (run.Name.IndexOfAny([.. Path.GetInvalidFileNameChars(), ' ']) >= 0)
        {
            problems.Add($"name '{run.Name}' cannot name the results files (it has a path separator or a space)");
        }

        Require(run.Mode, "mode", problems);
        Require(run.Commit, "commit", problems);
        if (run.Started == default)
        {
            problems.Add("the start time is not set");
        }

        if (!double.IsFinite(run.DurationSeconds) || run.DurationSeconds <= 0)
        {
            problems.Add($"duration {run.DurationSeconds} s is not a positive number");
        }
    }

    private static void CheckMachine(MachineInfo? machine, List<string> problems)
    {
        if (machine is null)
        {
            problems.Add("the machine is missing");
            return;
        }

        if (machine.Cpus <= 0)
        {
            problems.Add($"machine: {machine.Cpus} CPUs");
        }

        if (!double.IsFinite(machine.MemoryGiB) || machine.MemoryGiB <= 0)
        {
            problems.Add($"machine: {machine.MemoryGiB} GiB of RAM");
        }

        if (machine.GuestCpus <= 0)
        {
            problems.Add($"machine: {machine.GuestCpus} guest vCPUs");
        }

        Require(machine.CpuModel, "machine: the CPU model", problems);
        Require(machine.HostKernel, "machine: the host kernel", problems);
        Require(machine.GuestKernel, "machine: the guest kernel", problems);
        Require(machine.QemuVersion, "machine: the QEMU version", problems);
        Require(machine.GuestMemory, "machine: the guest memory", problems);
        if (!Accelerators.Contains(machine.Accelerator))
        {
            problems.Add($"machine: accelerator '{machine.Accelerator}' is neither tcg nor kvm");
        }
    }

    private static void CheckSizes(BenchSizes? sizes, List<string> problems)
    {
        if (sizes is null)
        {
            problems.Add("the sizes are missing");
            return;
        }

        (string Name, int Value)[] all =
        [
            ("runs", sizes.Runs), ("file MiB", sizes.FileMiB), ("sequential request bytes", sizes.SequentialRequestBytes),
            ("random request bytes", sizes.RandomRequestBytes), ("random ops", sizes.RandomOps),
            ("metadata files", sizes.MetadataFiles), ("transfer MiB", sizes.TransferMiB), ("latency rounds", sizes.LatencyRounds),
        ];
        foreach (var (name, value) in all.Where(s => s.Value <= 0))
        {
            problems.Add($"sizes: {name} is {value}, not positive");
        }

        if (sizes.DirScaleFiles is { } files && (files.Count == 0 || files[0] <= 0 || files.Zip(files.Skip(1)).Any(p => p.First >= p.Second)))
        {
            problems.Add($"sizes: the dirscale directory sizes ({string.Join(", ", files)}) are not positive and ascending");
        }
    }

    private static void CheckFileSystems(IReadOnlyList<FileSystemInfo>? fileSystems, List<string> problems)
    {
        if (fileSystems is null || fileSystems.Count == 0)
        {
            problems.Add("the run has no file system");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < fileSystems.Count; i++)
        {
            var fs = fileSystems[i];
            if (fs is null)
            {
                problems.Add($"file system {i} is null");
                continue;
            }

            if (string.IsNullOrWhiteSpace(fs.Id))
            {
                problems.Add($"file system {i} has no id");
            }
            else if (!seen.Add(fs.Id))
            {
                problems.Add($"file system {fs.Id} is listed twice");
            }

            Require(fs.Label, $"file system {fs.Id}: the label", problems);
            Require(fs.Setup, $"file system {fs.Id}: the setup", problems);
            if (fs.Error is not null && string.IsNullOrWhiteSpace(fs.Error))
            {
                problems.Add($"file system {fs.Id}: the error is set but empty");
            }
        }
    }

    private static void CheckResults(BenchRun run, List<string> problems)
    {
        if (run.Results is null)
        {
            problems.Add("the results are missing");
            return;
        }

        // The first of a file system listed twice (CheckFileSystems reports the second).
        var fileSystems = new Dictionary<string, FileSystemInfo>(StringComparer.Ordinal);
        foreach (var fs in (run.FileSystems ?? []).Where(fs => fs is not null))
        {
            fileSystems.TryAdd(fs.Id ?? "", fs);
        }

        var seen = new HashSet<(string, string)>();
        for (int i = 0; i < run.Results.Count; i++)
        {
            var m = run.Results[i];
            if (m is null)
            {
                problems.Add($"result {i} is null");
                continue;
            }

            string where = $"result {i} ({m.FileSystem}, {m.Workload})";
            var workload = Workload.All.FirstOrDefault(w => w.Id == m.Workload);
            if (!fileSystems.TryGetValue(m.FileSystem ?? "", out var fs))
            {
                problems.Add($"{where}: no file system {m.FileSystem} in the run");
            }

            if (workload is null)
            {
                problems.Add($"{where}: no workload {m.Workload} (known: {string.Join(", ", Workload.All.Select(w => w.Id))})");
            }
            else if (m.Unit != workload.Unit)
            {
                problems.Add($"{where}: unit '{m.Unit}', the workload's is '{workload.Unit}'");
            }

            if (!seen.Add((m.FileSystem ?? "", m.Workload ?? "")))
            {
                problems.Add($"{where}: a second result for the same file system and workload");
            }

            if (m.Error is not null)
            {
                CheckFailed(m, where, problems);
            }
            else
            {
                if (fs?.Error is not null)
                {
                    problems.Add($"{where}: a figure, but its file system failed as a whole ({fs.Error})");
                }

                CheckFigure(m, run.Sizes?.Runs, where, problems);
            }
        }
    }

    /// <summary>The directory-scaling part, when the run has it: one figure or failure per side, operation and size of the sizes, each well formed.</summary>
    private static void CheckDirScale(BenchRun run, List<string> problems)
    {
        if (run.DirScale is null)
        {
            return;
        }

        var files = run.Sizes?.DirScaleFiles;
        if (files is null)
        {
            problems.Add("the run has dirscale figures but its sizes list no dirscale directory sizes");
        }

        var seen = new HashSet<(string, string, int)>();
        for (int i = 0; i < run.DirScale.Count; i++)
        {
            var d = run.DirScale[i];
            if (d is null)
            {
                problems.Add($"dirscale result {i} is null");
                continue;
            }

            string where = $"dirscale result {i} ({d.Side}, {d.Operation}, n={d.Files})";
            if (!DirScaleSide.All.Any(s => s.Id == d.Side))
            {
                problems.Add($"{where}: no side {d.Side} (known: {string.Join(", ", DirScaleSide.All.Select(s => s.Id))})");
            }

            if (!DirScaleSide.Operations.Contains(d.Operation))
            {
                problems.Add($"{where}: no operation {d.Operation} (known: {string.Join(", ", DirScaleSide.Operations)})");
            }

            if (files is not null && !files.Contains(d.Files))
            {
                problems.Add($"{where}: n={d.Files} is not among the sizes' {string.Join(", ", files)}");
            }

            if (d.Unit != DirScaleMeasurement.MicrosecondsPerOp)
            {
                problems.Add($"{where}: unit '{d.Unit}', not '{DirScaleMeasurement.MicrosecondsPerOp}'");
            }

            if (!seen.Add((d.Side ?? "", d.Operation ?? "", d.Files)))
            {
                problems.Add($"{where}: a second result for the same side, operation and size");
            }

            if (d.Error is not null)
            {
                CheckFailed(d, where, problems);
            }
            else
            {
                CheckFigure(d, run.Sizes?.Runs, where, problems);
            }
        }

        foreach (var side in DirScaleSide.All.Where(s => run.DirScale.Any(d => d?.Side == s.Id)))
        {
            foreach (var (operation, n) in DirScaleSide.Operations.SelectMany(op => (files ?? []).Select(n => (op, n))))
            {
                if (!seen.Contains((side.Id, operation, n)))
                {
                    problems.Add($"dirscale: {side.Id}, {operation}, n={n}: no result");
                }
            }
        }
    }

    private static void CheckFailed(Figure m, string where, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(m.Error))
        {
            problems.Add($"{where}: the error is set but empty");
        }

        if (m.Runs is { Count: > 0 })
        {
            problems.Add($"{where}: failed, yet has {m.Runs.Count} runs");
        }

        if (m.Median is not null || m.Min is not null || m.Max is not null)
        {
            problems.Add($"{where}: failed, yet has a median, min or max");
        }
    }

    private static void CheckFigure(Figure m, int? runs, string where, List<string> problems)
    {
        if (m.Runs is null || m.Runs.Count == 0)
        {
            problems.Add($"{where}: no runs and no error");
            return;
        }

        if (runs is int expected && m.Runs.Count != expected)
        {
            problems.Add($"{where}: {m.Runs.Count} runs, the sizes say {expected}");
        }

        var bad = m.Runs.Where(v => !double.IsFinite(v) || v <= 0).ToList();
        if (bad.Count > 0)
        {
            problems.Add($"{where}: runs that are not positive numbers: {string.Join(", ", bad)}");
            return;
        }

        // The one definition of the figure: what Measurement.Of makes of these runs.
        var (median, min, max) = Figure.Summarize(m.Runs);
        if (m.Median != median || m.Min != min || m.Max != max)
        {
            problems.Add($"{where}: median {m.Median}, min {m.Min}, max {m.Max} do not match its runs "
                + $"(median {median}, min {min}, max {max})");
        }
    }

    private static void Require(string? value, string what, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{what} is empty");
        }
    }
}
