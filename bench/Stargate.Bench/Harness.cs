using System.Diagnostics;
using System.Globalization;
using Stargate.Bench.FileSystems;

namespace Stargate.Bench;

/// <summary>
/// Measures every chosen file system in turn: starts its host side, boots guest A (and guest B
/// when it can be shared and a two-guest workload runs), mounts it, and runs every workload <see cref="BenchSizes.Runs"/>
/// times, interleaved (run 1 of each workload, then run 2, ...). A workload that fails is
/// recorded with its error and not run again; the other workloads go on.
/// </summary>
public sealed class Harness(BenchSettings settings, TextWriter progress)
{
    private const string Dir = BenchFileSystem.Mount;
    private static readonly Workload[] SingleGuest =
        [Workload.SeqWrite, Workload.SeqRead, Workload.RandWrite, Workload.RandRead, Workload.Append, Workload.SmallWrite, Workload.MmapRead, Workload.Create, Workload.Stat, Workload.Readdir, Workload.Unlink, Workload.Rtt];

    private const string WorkPrefix = "stargate-bench-";

    private BenchSizes Sizes => settings.Sizes;

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
    /// Measures @fileSystem: its description, its measurements (failures included), and, on
    /// the stargate file system of a run with the directory-scaling part, the guest's figures
    /// of that part (run in guest A after each run of the workloads), otherwise none; and, where
    /// the file system counts its requests (Stargate), the round trip's steps of the median run
    /// of the round-trip workload, otherwise null.
    /// </summary>
    public (FileSystemInfo Info, IReadOnlyList<Measurement> Results, IReadOnlyList<DirScaleMeasurement> DirScale, RequestSteps? Steps) Measure(BenchFileSystem fileSystem)
    {
        var steps = new List<RequestSteps>();
        var workloads = settings.Parts.Contains(BenchSettings.WorkloadsPart) ? Workload.All.Where(fileSystem.Measures).ToList() : [];
        var dirScale = settings.Parts.Contains(BenchSettings.DirScalePart) && fileSystem.Id == Report.Figures.Stargate ? new GuestDirScale(Sizes) : null;
        var runs = workloads.ToDictionary(w => w, _ => new List<double>());
        var errors = new Dictionary<Workload, string>();
        string work = WorkFolder(fileSystem.Id);
        string? failure = null;
        var guests = new List<BenchGuest>();
        var clock = Stopwatch.StartNew();
        try
        {
            Directory.CreateDirectory(work);
            fileSystem.Start(work);
            guests.Add(BenchGuest.Boot(settings, fileSystem, 0));
            if (fileSystem.Shareable && workloads.Any(w => w.TwoGuests))
            {
                guests.Add(BenchGuest.Boot(settings, fileSystem, 1));
            }

            if (dirScale is not null)
            {
                GuestDirScale.Prepare(guests[0]);
            }

            if (fileSystem.WarmUpCommand is { } warmUp)
            {
                guests[0].Shell(warmUp);
                progress.WriteLine($"  {fileSystem.Id}: warmed up after {clock.Elapsed.TotalSeconds:0.0} s");
            }

            progress.WriteLine($"  {fileSystem.Id}: {guests.Count} guest(s) up and mounted after {clock.Elapsed.TotalSeconds:0.0} s");
            for (int run = 1; run <= Sizes.Runs; run++)
            {
                foreach (var workload in workloads.Where(w => !errors.ContainsKey(w)))
                {
                    try
                    {
                        var before = workload == Workload.Rtt ? fileSystem.ReadCounters(guests[0]) : null;
                        double value = workload.TwoGuests ? RunShared(workload, fileSystem, guests[0], guests[1]) : RunSingle(workload, fileSystem, guests[0]);
                        runs[workload].Add(value);
                        if (before is not null)
                        {
                            steps.Add(fileSystem.ReadCounters(guests[0])!.Since(before, fileSystem.Id, value));
                        }
                    }
                    catch (BenchException e)
                    {
                        errors[workload] = e.Message;
                        progress.WriteLine($"  {fileSystem.Id} {workload.Id}: failed: {FirstLine(e.Message)}");
                    }
                }

                dirScale?.RunOnce(guests[0], progress);
                progress.WriteLine($"  {fileSystem.Id}: run {run} of {Sizes.Runs} done at {clock.Elapsed.TotalSeconds:0.0} s");
            }

            foreach (var guest in guests)
            {
                guest.Finish();
            }

            fileSystem.Finish();
        }
        catch (BenchException e)
        {
            failure = e.Message;
            progress.WriteLine($"  {fileSystem.Id}: failed: {FirstLine(e.Message)}");
        }
        finally
        {
            foreach (var guest in guests)
            {
                guest.Dispose();
            }

            fileSystem.Dispose();
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        // A workload cut short by the file system's failure has no figure of its own: the
        // failure, in the file system's entry, says why.
        var results = workloads
            .Where(w => errors.ContainsKey(w) || runs[w].Count == Sizes.Runs)
            .Select(w => errors.TryGetValue(w, out string? error) ? Measurement.Failed(fileSystem.Id, w, error) : Measurement.Of(fileSystem.Id, w, runs[w]))
            .ToList();
        var info = new FileSystemInfo { Id = fileSystem.Id, Label = fileSystem.Label, Setup = fileSystem.Setup, Error = failure };
        var median = steps.Count == Sizes.Runs ? steps.OrderBy(s => s.RoundTripUs).ElementAt((steps.Count - 1) / 2) : null;
        return (info, results, dirScale?.Results(failure) ?? [], median);
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
