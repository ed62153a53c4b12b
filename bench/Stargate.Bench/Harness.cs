using System.Diagnostics;
using System.Globalization;
using Stargate.Bench.FileSystems;

namespace Stargate.Bench;

/// <summary>
/// Measures the chosen file systems side by side: starts each one's host side, boots its guest A
/// (and guest B when it can be shared and a two-guest workload runs) and mounts it, then runs
/// every workload <see cref="BenchSizes.Runs"/> times, interleaved (run 1 of each workload on
/// each file system, then run 2, ...). A workload that fails is recorded with its error and not
/// run again; the other workloads go on.
/// </summary>
public sealed class Harness(BenchSettings settings, TextWriter progress)
{
    private const string Dir = BenchFileSystem.Mount;
    private static readonly Workload[] SingleGuest =
        [Workload.SeqWrite, Workload.SeqRead, Workload.RandWrite, Workload.RandRead, Workload.Append, Workload.SmallWrite, Workload.MmapRead, Workload.Create, Workload.Stat, Workload.Readdir, Workload.Unlink, Workload.Rtt];

    private const string WorkPrefix = "stargate-bench-";

    private BenchSizes Sizes => settings.Sizes;

    private BenchSettings Settings => settings;

    private TextWriter Progress => progress;

    /// <summary>Removes the /dev/shm work folders of harness runs that were killed before they cleaned up.</summary>
    public static void RemoveStaleWork()
    {
        foreach (string dir in Directory.EnumerateDirectories("/dev/shm", WorkPrefix + "*"))
        {
            string owner = Path.GetFileName(dir)[WorkPrefix.Length..].Split('-')[0];
            if (int.TryParse(owner, CultureInfo.InvariantCulture, out int pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>A work folder of this run in /dev/shm named after @name (not made; removed by a later run if this one is killed).</summary>
    public static string WorkFolder(string name) =>
        Path.Combine("/dev/shm", string.Create(CultureInfo.InvariantCulture, $"{WorkPrefix}{Environment.ProcessId}-{name}"));

    /// <summary>
    /// The size of a stargate zone for a run of @sizes: room for the large file, the transfer's
    /// file and its temporary; with @dirScale (the run has the directory-scaling part) also an
    /// inode (one per SGZ_BYTES_PER_INODE of zone) for every file of its largest directory, the
    /// metadata workloads' files and a few more. Rounded up to 2^n (a BAR's size). The pool that
    /// holds directory entries and indexes is 1/16 of the zone, several times what 288-byte
    /// entries need.
    /// </summary>
    public static ulong ZoneSize(BenchSizes sizes, bool dirScale)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ulong bytes = (ulong)((2L * Math.Max(sizes.FileMiB, sizes.TransferMiB)) + 64) << 20;
        if (dirScale && sizes.DirScaleFiles is { Count: > 0 } files)
        {
            ulong inodes = (ulong)files.Max() + (ulong)sizes.MetadataFiles + 64;
            bytes = Math.Max(bytes, inodes * Stargate.Interop.Abi.SgzAbi.BytesPerInode);
        }

        return System.Numerics.BitOperations.RoundUpToPowerOf2(bytes);
    }

    /// <summary>The file system of id @id, for a run of @sizes (with the directory-scaling part: @dirScale).</summary>
    public static BenchFileSystem Create(string id, BenchSizes sizes, bool dirScale)
    {
        ulong zone = ZoneSize(sizes, dirScale);
        return id switch
        {
            "tmpfs" => new GuestTmpfs(),
            "stargate" => new StargateZone(mapped: false, zone),
            "stargate-mmap" => new StargateZone(mapped: true, zone),
            "stargate-nopoll" => new StargateZone(mapped: false, zone, polling: false),
            "9p" => new NineP(),
            "virtiofs" => new VirtioFs(),
            "nfs" => new Nfs(),
            "samba" => new Samba(),
            _ => throw new ArgumentException($"no file system '{id}'", nameof(id)),
        };
    }

    /// <summary>
    /// Measures @fileSystems side by side: starts each (host side, guests, warm-up), then runs
    /// run 1 of every workload on each file system in turn, then run 2 on each, and so on, and
    /// finishes each. A machine whose speed drifts (a shared host) then slows every file
    /// system's runs alike instead of one file system's all, so the ratios between them hold.
    /// For each file system, in order: its description, its measurements (failures included),
    /// and, on the stargate file system of a run with the directory-scaling part, the guest's
    /// figures of that part (run in guest A after each run of the workloads), otherwise none;
    /// and, where the file system counts its requests (Stargate), the round trip's steps of the
    /// median run of the round-trip workload, otherwise null.
    /// </summary>
    public IReadOnlyList<(FileSystemInfo Info, IReadOnlyList<Measurement> Results, IReadOnlyList<DirScaleMeasurement> DirScale, RequestSteps? Steps)> Measure(IReadOnlyList<BenchFileSystem> fileSystems)
    {
        ArgumentNullException.ThrowIfNull(fileSystems);
        var sessions = new List<Session>();
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var fileSystem in fileSystems)
            {
                var session = new Session(this, fileSystem, clock);
                sessions.Add(session);
                session.Start();
            }

            for (int run = 1; run <= Sizes.Runs; run++)
            {
                foreach (var session in sessions)
                {
                    session.RunOnce(run);
                }
            }

            return [.. sessions.Select(s => s.Finish())];
        }
        finally
        {
            foreach (var session in sessions)
            {
                session.Dispose();
            }
        }
    }

    /// <summary>One file system's part of <see cref="Measure"/>: its guests, its runs so far and its failure.</summary>
    private sealed class Session(Harness harness, BenchFileSystem fileSystem, Stopwatch clock) : IDisposable
    {
        private readonly List<RequestSteps> _steps = [];
        private readonly List<BenchGuest> _guests = [];
        private readonly Dictionary<Workload, string> _errors = [];
        private List<Workload> _workloads = [];
        private Dictionary<Workload, List<double>> _runs = [];
        private GuestDirScale? _dirScale;
        private string? _failure;
        private string? _work;

        private TextWriter Progress => harness.Progress;

        /// <summary>Starts the host side, boots the guests, mounts and warms up; a failure is kept and ends this file system's runs.</summary>
        public void Start()
        {
            var settings = harness.Settings;
            _workloads = settings.Parts.Contains(BenchSettings.WorkloadsPart) ? [.. Workload.All.Where(fileSystem.Measures)] : [];
            _dirScale = settings.Parts.Contains(BenchSettings.DirScalePart) && fileSystem.Id == Report.Figures.Stargate ? new GuestDirScale(harness.Sizes) : null;
            _runs = _workloads.ToDictionary(w => w, _ => new List<double>());
            _work = WorkFolder(fileSystem.Id);
            try
            {
                Directory.CreateDirectory(_work);
                fileSystem.Start(_work);
                _guests.Add(BenchGuest.Boot(settings, fileSystem, 0));
                if (fileSystem.Shareable && _workloads.Any(w => w.TwoGuests))
                {
                    _guests.Add(BenchGuest.Boot(settings, fileSystem, 1));
                }

                if (_dirScale is not null)
                {
                    GuestDirScale.Prepare(_guests[0]);
                }

                if (fileSystem.WarmUpCommand is { } warmUp)
                {
                    _guests[0].Shell(warmUp);
                    Progress.WriteLine($"  {fileSystem.Id}: warmed up after {clock.Elapsed.TotalSeconds:0.0} s");
                }

                Progress.WriteLine($"  {fileSystem.Id}: {_guests.Count} guest(s) up and mounted after {clock.Elapsed.TotalSeconds:0.0} s");
            }
            catch (BenchException e)
            {
                Fail(e);
            }
        }

        /// <summary>Run @run of every workload that has not failed (and of the directory-scaling part).</summary>
        public void RunOnce(int run)
        {
            if (_failure is not null)
            {
                return;
            }

            try
            {
                foreach (var workload in _workloads.Where(w => !_errors.ContainsKey(w)))
                {
                    try
                    {
                        var before = workload == Workload.Rtt ? fileSystem.ReadCounters(_guests[0]) : null;
                        double value = workload.TwoGuests ? harness.RunShared(workload, fileSystem, _guests[0], _guests[1]) : harness.RunSingle(workload, fileSystem, _guests[0]);
                        _runs[workload].Add(value);
                        if (before is not null)
                        {
                            _steps.Add(fileSystem.ReadCounters(_guests[0])!.Since(before, fileSystem.Id, value));
                        }
                    }
                    catch (BenchException e)
                    {
                        _errors[workload] = e.Message;
                        Progress.WriteLine($"  {fileSystem.Id} {workload.Id}: failed: {FirstLine(e.Message)}");
                    }
                }

                _dirScale?.RunOnce(_guests[0], Progress);
                Progress.WriteLine($"  {fileSystem.Id}: run {run} of {harness.Sizes.Runs} done at {clock.Elapsed.TotalSeconds:0.0} s");
            }
            catch (BenchException e)
            {
                Fail(e);
            }
        }

        /// <summary>Stops the guests and the host side cleanly, and gives what was measured.</summary>
        public (FileSystemInfo Info, IReadOnlyList<Measurement> Results, IReadOnlyList<DirScaleMeasurement> DirScale, RequestSteps? Steps) Finish()
        {
            if (_failure is null)
            {
                try
                {
                    foreach (var guest in _guests)
                    {
                        guest.Finish();
                    }

                    fileSystem.Finish();
                }
                catch (BenchException e)
                {
                    Fail(e);
                }
            }

            int runs = harness.Sizes.Runs;
            // A workload cut short by the file system's failure has no figure of its own: the
            // failure, in the file system's entry, says why.
            var results = _workloads
                .Where(w => _errors.ContainsKey(w) || _runs[w].Count == runs)
                .Select(w => _errors.TryGetValue(w, out string? error) ? Measurement.Failed(fileSystem.Id, w, error) : Measurement.Of(fileSystem.Id, w, _runs[w]))
                .ToList();
            var info = new FileSystemInfo { Id = fileSystem.Id, Label = fileSystem.Label, Setup = fileSystem.Setup, Error = _failure };
            var median = _steps.Count == runs ? _steps.OrderBy(s => s.RoundTripUs).ElementAt((_steps.Count - 1) / 2) : null;
            return (info, results, _dirScale?.Results(_failure) ?? [], median);
        }

        /// <summary>Stops whatever still runs and removes the work folder.</summary>
        public void Dispose()
        {
            foreach (var guest in _guests)
            {
                guest.Dispose();
            }

            _guests.Clear();
            fileSystem.Dispose();
            if (_work is not null && Directory.Exists(_work))
            {
                Directory.Delete(_work, recursive: true);
            }
        }

        private void Fail(BenchException e)
        {
            _failure = e.Message;
            Progress.WriteLine($"  {fileSystem.Id}: failed: {FirstLine(e.Message)}");
        }
    }

    /// <summary>One run of a one-guest workload on guest @a; its figure in the workload's unit.</summary>
    private double RunSingle(Workload workload, BenchFileSystem fileSystem, BenchGuest a)
    {
        string flags = fileSystem.DataFlags;
        string mib = Sizes.FileMiB.ToString(CultureInfo.InvariantCulture);
        string ops = Sizes.RandomOps.ToString(CultureInfo.InvariantCulture);
        string files = Sizes.MetadataFiles.ToString(CultureInfo.InvariantCulture);
        if (workload == Workload.Create)
        {
            a.Shell($"rm -rf {Dir}/meta");
        }

        var result = a.Sgbench(workload.Id switch
        {
            "seqwrite" => $"{flags} seqwrite {Dir} {mib}",
            "seqread" => $"{flags} --drop-caches seqread {Dir} {mib}",
            "randwrite" => $"{flags} randwrite {Dir} {mib} {ops}",
            "randread" => $"{flags} --drop-caches randread {Dir} {mib} {ops}",
            "append" => $"append {Dir} {ops}",
            "smallwrite" => $"smallwrite {Dir} {mib} {ops}",
            "mmapread" => $"--drop-caches mmapread {Dir} {mib}",
            "create" => $"create {Dir} {files}",
            "stat" => $"--drop-caches stat {Dir} {files}",
            "readdir" => $"--drop-caches readdir {Dir} {files}",
            "unlink" => $"unlink {Dir} {files}",
            "rtt" => $"rtt {Dir} {files}",
            _ => throw new ArgumentException($"{workload.Id} is not a one-guest workload", nameof(workload)),
        });
        return workload == Workload.Rtt ? result.Number("median_ns") / 1000.0
            : workload.Unit == "MiB/s" ? result.Number("bytes") / (double)(1 << 20) / result.Seconds
            : result.Number("ops") / result.Seconds;
    }

    /// <summary>One run of a two-guest workload: guest @a changes, guest @b sees.</summary>
    private double RunShared(Workload workload, BenchFileSystem fileSystem, BenchGuest a, BenchGuest b)
    {
        if (workload == Workload.Transfer)
        {
            string mib = Sizes.TransferMiB.ToString(CultureInfo.InvariantCulture);
            a.Shell($"rm -f {Dir}/xfer.dat");
            var written = a.Sgbench($"xwrite {Dir} {mib}");
            var read = b.Sgbench($"{fileSystem.DataFlags} --drop-caches xread {Dir} {mib}");
            if (written.Text("sum") != read.Text("sum"))
            {
                throw new BenchException($"guest B read other bytes than guest A wrote: sum {read.Text("sum")}, written {written.Text("sum")}");
            }

            return Sizes.TransferMiB / (written.Seconds + read.Seconds);
        }

        string rounds = Sizes.LatencyRounds.ToString(CultureInfo.InvariantCulture);
        a.Shell($"rm -f {Dir}/ping {Dir}/pong");
        string reader = b.Background($"sgbench pingpong {Dir} b {rounds}", "ready");
        var pingpong = a.Sgbench($"pingpong {Dir} a {rounds}");
        b.Join(reader);
        // A round trip is two one-way visibilities: A's change seen by B, and B's seen by A.
        return pingpong.Number("median_ns") / 2.0 / 1000.0;
    }

    private static string FirstLine(string text) => text.Split('\n')[0];
}
