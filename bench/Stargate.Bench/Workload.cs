namespace Stargate.Bench;

/// <summary>One workload of the table: what sgbench runs and how its figure reads.</summary>
public sealed record Workload(string Id, string Label, string Unit, bool HigherIsBetter, bool TwoGuests)
{
    public static readonly Workload SeqWrite = new("seqwrite", "sequential write, 1 MiB requests", "MiB/s", true, false);
    public static readonly Workload SeqRead = new("seqread", "sequential read, 1 MiB requests", "MiB/s", true, false);
    public static readonly Workload RandWrite = new("randwrite", "random write, 4 KiB", "IOPS", true, false);
    public static readonly Workload RandRead = new("randread", "random read, 4 KiB", "IOPS", true, false);
    public static readonly Workload Append = new("append", "append, 4 KiB writes that grow a new file", "ops/s", true, false);
    public static readonly Workload SmallWrite = new("smallwrite", "small writes, 64 B in place", "ops/s", true, false);
    public static readonly Workload MmapRead = new("mmapread", "mmap read of the large file", "MiB/s", true, false);
    public static readonly Workload Create = new("create", "create small files", "files/s", true, false);
    public static readonly Workload Stat = new("stat", "stat small files", "files/s", true, false);
    public static readonly Workload Readdir = new("readdir", "readdir of the large directory", "entries/s", true, false);
    public static readonly Workload Unlink = new("unlink", "unlink small files", "files/s", true, false);
    public static readonly Workload Rtt = new("rtt", "metadata change round trip (fchmod; on Stargate one request)", "µs", false, false);
    public static readonly Workload Transfer = new("transfer", "guest A writes, guest B reads, end to end", "MiB/s", true, true);
    public static readonly Workload Latency = new("latency", "cross-VM visibility of a change", "µs", false, true);

    /// <summary>Every workload, in table order.</summary>
    public static readonly IReadOnlyList<Workload> All =
        [SeqWrite, SeqRead, RandWrite, RandRead, Append, SmallWrite, MmapRead, Create, Stat, Readdir, Unlink, Rtt, Transfer, Latency];

    /// <summary>The throughput workloads drawn in the plot and compared with the paper's ratios.</summary>
    public static readonly IReadOnlyList<Workload> Throughput = [SeqWrite, SeqRead, MmapRead, Transfer];

    public static Workload ById(string id) =>
        All.FirstOrDefault(w => w.Id == id) ?? throw new ArgumentException($"no workload '{id}' (known: {string.Join(", ", All.Select(w => w.Id))})", nameof(id));
}
