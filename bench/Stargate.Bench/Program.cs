using System.Diagnostics;
using Stargate.Bench;
using Stargate.Bench.Report;
using Stargate.Guests.Checkout;
using FileSystemInfo = Stargate.Bench.FileSystemInfo;

// stargate-bench: see BenchSettings.Usage. Exit 0: every figure measured; 1: results written
// but some failed (each says why); 2: a command-line mistake.
if (args is ["--map-read", var mibText, var runsText])
{
    // Host only, no guests: the zero-copy mapping against a plain copy (bench/host-mount.sh runs it).
    if (int.TryParse(mibText, out int mib) && mib is > 0 and < 2048 && int.TryParse(runsText, out int runs) && runs > 0)
    {
        return MapRead.Run(mib, runs, Console.Out);
    }

    Console.Error.WriteLine($"stargate-bench: --map-read MIB RUNS: MIB from 1 to 2047 and RUNS from 1, not '{mibText}' '{runsText}'");
    return 2;
}

BenchSettings settings;
try
{
    settings = BenchSettings.Parse(args);
}
catch (BenchUsageException e)
{
    if (!e.IsHelp)
    {
        Console.Error.WriteLine($"stargate-bench: {e.Message}");
    }

    Console.Error.WriteLine(BenchSettings.Usage);
    return e.IsHelp ? 0 : 2;
}

TestLogs.UseFolder("bench-logs");
Harness.RemoveStaleWork();
var started = DateTimeOffset.UtcNow;
var clock = Stopwatch.StartNew();
var harness = new Harness(settings, Console.Out);
var fileSystems = new List<FileSystemInfo>();
var results = new List<Measurement>();
Console.WriteLine($"stargate-bench {settings.Mode}: {string.Join(", ", settings.FileSystems)}; guest kernel {settings.KernelRelease}; logs in {Path.GetDirectoryName(TestLogs.PathFor("x"))}");
string commit = MachineProbe.Commit();
var machine = MachineProbe.Read(settings);
Directory.CreateDirectory(settings.OutputDirectory);
string stem = Path.Combine(settings.OutputDirectory, settings.Name);
string markdown = string.Empty;
bool dirScalePart = settings.Parts.Contains(BenchSettings.DirScalePart);
List<DirScaleMeasurement>? dirScale = dirScalePart ? [] : null;
var requestSteps = new List<RequestSteps>();
var measuredAll = harness.Measure([.. settings.FileSystems.Select(id => Harness.Create(id, settings.Sizes, dirScalePart))]);
foreach (var (info, measured, dirScaleMeasured, steps) in measuredAll)
{
    fileSystems.Add(info);
    if (steps is not null)
    {
        requestSteps.Add(steps);
    }

    results.AddRange(measured);
    dirScale?.AddRange(dirScaleMeasured);
}

Write();

if (dirScale is not null)
{
    // After every guest is gone: the host's figures have the machine to themselves.
    dirScale.AddRange(HostDirScale.Measure(settings.Sizes, Harness.WorkFolder("host-dirscale"), Console.Out));
    Write();
}

Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"stargate-bench: wrote {stem}.json, .md and the charts in {clock.Elapsed.TotalSeconds:0} s");
int failed = results.Count(r => r.Error is not null) + fileSystems.Count(f => f.Error is not null) + (dirScale?.Count(d => d.Error is not null) ?? 0);
if (failed > 0)
{
    Console.Error.WriteLine($"stargate-bench: {failed} figure(s) or file system(s) failed; see the results' footnotes and {Path.GetDirectoryName(TestLogs.PathFor("x"))}");
    return 1;
}

return 0;

void Write()
{
    var run = new BenchRun
    {
        Name = settings.Name,
        Mode = settings.Mode,
        Started = started,
        DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        Commit = commit,
        Machine = machine,
        Sizes = dirScale is null ? settings.Sizes with { DirScaleFiles = null } : settings.Sizes,
        FileSystems = fileSystems,
        Results = results,
        DirScale = dirScale,
        RequestSteps = requestSteps.Count > 0 ? requestSteps : null,
    };
    File.WriteAllText(stem + ".json", run.ToJson());
    markdown = MarkdownReport.Render(run);
    File.WriteAllText(stem + ".md", markdown);
    var charts = new List<string>();
    if (settings.Parts.Contains(BenchSettings.WorkloadsPart))
    {
        ChartReport.Render(run, stem + ".png");
        charts.Add(".png");
    }

    if (dirScale is not null)
    {
        DirScaleChart.Render(run, stem + "-dirscale.png");
        charts.Add("-dirscale.png");
    }

    Console.WriteLine($"  results so far in {stem}.json, .md, {string.Join(", ", charts)}");
}
