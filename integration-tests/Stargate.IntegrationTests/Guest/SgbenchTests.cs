using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Stargate.Testing;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// sgbench, the benchmark harness's workload tool, run on the host over a directory in /tmp and
/// one in /dev/shm: each workload prints one well-formed result line with exact bytes and ops;
/// what it writes is the pattern of sgbench.c's header and what it reads is summed as the header
/// says (both recomputed here); xwrite and xread agree; pingpong completes between two
/// processes; bad input exits 2 with the usage, a failure exits 1 naming the operation and path.
/// One test runs every workload in a busybox guest too, where it is meant to run.
/// </summary>
public sealed partial class SgbenchTests(ITestOutputHelper output) : IDisposable
{
    private const int MiB = 1 << 20;
    private const int Page = 4096;

    private readonly List<string> _scratch = [];

    public void Dispose()
    {
        foreach (string dir in _scratch)
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void SequentialWorkloads_WriteThePattern_AndReadItBackWithThePageSum_ThroughReadAndMappings(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);
        string seq = Path.Combine(dir, "seq.dat");

        var written = Run("seqwrite", dir, "3");
        Expect(written, "seqwrite", 3 * MiB, 3);
        Assert.True(Mirror.IsPattern(File.ReadAllBytes(seq), 3 * MiB), "seq.dat holds the pattern of the header");

        string sum = Mirror.PageSum(File.ReadAllBytes(seq));
        foreach (var (args, name) in new[] { (new[] { "seqread" }, "seqread"), (new[] { "--mmap", "seqread" }, "seqread"), (new[] { "mmapread" }, "mmapread") })
        {
            var read = Run([.. args, dir, "3"]);
            Expect(read, name, 3 * MiB, 3);
            Assert.Equal(sum, read["sum"]);
        }

        // Fewer MiB than the file holds: only those are read.
        Assert.Equal(Mirror.PageSum(File.ReadAllBytes(seq).AsSpan(0, MiB)), Run("seqread", dir, "1")["sum"]);
    }

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void MappedSeqwrite_ExtendsAShortFileWithoutTruncating_ThenStoresThePattern(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);
        string seq = Path.Combine(dir, "seq.dat");
        File.WriteAllBytes(seq, new byte[MiB + 12345]);

        Expect(Run("--mmap", "seqwrite", dir, "3"), "seqwrite", 3 * MiB, 3);
        Assert.True(Mirror.IsPattern(File.ReadAllBytes(seq), 3 * MiB), "seq.dat is the pattern, extended to 3 MiB");

        // A longer file keeps its length: only the first MiB are stored to.
        File.WriteAllBytes(seq, new byte[4 * MiB]);
        Expect(Run("--mmap", "seqwrite", dir, "2"), "seqwrite", 2 * MiB, 2);
        byte[] data = File.ReadAllBytes(seq);
        Assert.Equal(4 * MiB, data.Length);
        Assert.True(Mirror.IsPattern(data.AsSpan(0, 2 * MiB), 2 * MiB), "the first 2 MiB are the pattern");
        Assert.True(data.AsSpan(2 * MiB).IndexOfAnyExcept((byte)0) < 0, "the rest is untouched");
    }

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void RandomWorkloads_UseTheFixedOffsets_WritingThePatternAndSummingThePagesRead(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);
        string seq = Path.Combine(dir, "seq.dat");
        File.WriteAllBytes(seq, new byte[4 * MiB]);

        Expect(Run("randwrite", dir, "4", "300"), "randwrite", 300 * Page, 300);
        byte[] data = File.ReadAllBytes(seq);
        var offsets = Mirror.Offsets(4, 300).ToHashSet();
        for (int off = 0; off < data.Length; off += Page)
        {
            bool expected = offsets.Contains(off);
            Assert.True(expected ? Mirror.IsPattern(data.AsSpan(off, Page), off + Page, off) : data.AsSpan(off, Page).IndexOfAnyExcept((byte)0) < 0,
                $"page at {off}: {(expected ? "the pattern" : "untouched zeros")}");
        }

        string sum = Mirror.RandomSum(data, 4, 300);
        var read = Run("randread", dir, "4", "300");
        Expect(read, "randread", 300 * Page, 300);
        Assert.Equal(sum, read["sum"]);
        Assert.Equal(sum, Run("--mmap", "randread", dir, "4", "300")["sum"]);

        File.WriteAllBytes(seq, new byte[4 * MiB]);
        Expect(Run("--mmap", "randwrite", dir, "4", "300"), "randwrite", 300 * Page, 300);
        Assert.True(data.AsSpan().SequenceEqual(File.ReadAllBytes(seq)), "--mmap randwrite stores what randwrite wrote");
    }

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void MetadataWorkloads_CreateStatReaddirAndUnlinkEveryFile(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);
        string meta = Path.Combine(dir, "meta");

        Expect(Run("create", dir, "250"), "create", 0, 250);
        string[] names = Directory.GetFiles(meta).Select(f => Path.GetRelativePath(meta, f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"f{i:D6}"), names);
        Assert.All(names, n => Assert.Equal(0, new FileInfo(Path.Combine(meta, n)).Length));

        Expect(Run("stat", dir, "250"), "stat", 0, 250);
        Expect(Run("readdir", dir, "250"), "readdir", 0, 250);
        Assert.Contains($"sgbench: readdir: readdir {meta}: 250 entries, expected 249", Fails("readdir", dir, "249"), StringComparison.Ordinal);
        Assert.Contains($"sgbench: stat: stat {meta}/f000250: No such file or directory", Fails("stat", dir, "251"), StringComparison.Ordinal);
        Assert.Contains($"sgbench: create: {meta} is not empty", Fails("create", dir, "5"), StringComparison.Ordinal);

        Expect(Run("unlink", dir, "250"), "unlink", 0, 250);
        Assert.False(Directory.Exists(meta), "unlink removed DIR/meta");

        // An existing empty DIR/meta is fine.
        Directory.CreateDirectory(meta);
        Expect(Run("create", dir, "1"), "create", 0, 1);
    }

    private static readonly string[] DirscaleLoops = ["create_ns", "stat_ns", "rename_ns", "unlink_ns"];

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void Rtt_ChangesTheModeNTimes_TimingEach_AndLeavesNothing(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);

        var words = Run("rtt", dir, "200");
        Expect(words, "rtt", 0, 200);
        long median = long.Parse(words["median_ns"], CultureInfo.InvariantCulture);
        long min = long.Parse(words["min_ns"], CultureInfo.InvariantCulture);
        long max = long.Parse(words["max_ns"], CultureInfo.InvariantCulture);
        Assert.True(min > 0 && min <= median && median <= max, $"min {min}, median {median}, max {max}");
        Assert.True(long.Parse(words["ns"], CultureInfo.InvariantCulture) >= 200 * min);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void Dirscale_CreatesStatsRenamesAndUnlinksEveryFile_AndTimesEachLoop(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);
        string meta = Path.Combine(dir, "meta");
        File.WriteAllText(Path.Combine(dir, "keep"), "");

        var words = Run("dirscale", dir, "300");
        Expect(words, "dirscale", 0, 300);
        long[] loops = [.. DirscaleLoops.Select(k => long.Parse(words[k], CultureInfo.InvariantCulture))];
        Assert.All(loops, ns => Assert.True(ns > 0));
        Assert.Equal(long.Parse(words["ns"], CultureInfo.InvariantCulture), loops.Sum());
        Assert.False(Directory.Exists(meta), "dirscale removed DIR/meta");

        Directory.CreateDirectory(meta);
        File.WriteAllText(Path.Combine(meta, "left"), "");
        Assert.Contains($"sgbench: dirscale: {meta} is not empty", Fails("dirscale", dir, "5"), StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void XwriteThenXread_AgreeOnTheFullSum_AndEachXwriteWritesOtherBytes(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);
        string xfer = Path.Combine(dir, "xfer.dat");

        var first = Run("xwrite", dir, "2");
        Expect(first, "xwrite", 2 * MiB, 2);
        Assert.Equal(Mirror.FullSum(File.ReadAllBytes(xfer)), first["sum"]);
        Assert.False(File.Exists(xfer + ".tmp"), "the temporary file was renamed");
        var read = Run("xread", dir, "2");
        Expect(read, "xread", 2 * MiB, 2);
        Assert.Equal(first["sum"], read["sum"]);
        Assert.Equal(first["sum"], Run("--mmap", "xread", dir, "2")["sum"]);

        var second = Run("xwrite", dir, "2");
        Assert.NotEqual(first["sum"], second["sum"]);
        Assert.Equal(second["sum"], Run("xread", dir, "2")["sum"]);
    }

    [SkippableFact]
    public void Xread_StartedBeforeXwrite_WaitsForTheWholeFile()
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch("tmp");
        var reader = Task.Run(() => Reply("xread", dir, "8"));
        Thread.Sleep(300);
        Assert.False(reader.IsCompleted, $"xread waits for DIR/xfer.dat: {(reader.IsCompleted ? reader.Result : null)}");

        var written = Run("xwrite", dir, "8");

        var read = reader.Result;
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Equal(written["sum"], Words(read.Stdout)["sum"]);
    }

    [SkippableTheory]
    [InlineData("tmp")]
    [InlineData("shm")]
    public void Pingpong_BetweenTwoProcesses_CompletesEveryRound(string where)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch(where);
        var info = new ProcessStartInfo(GuestTools.Sgbench, ["pingpong", dir, "b", "200"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var b = Process.Start(info)!;
        Dictionary<string, string> a;
        try
        {
            Assert.Equal("sgbench pingpong ready", b.StandardOutput.ReadLine());
            a = Run("pingpong", dir, "a", "200");
            Assert.True(b.WaitForExit(30_000), "role b ended");
        }
        finally
        {
            if (!b.HasExited)
            {
                b.Kill();
            }
        }

        Assert.True(b.ExitCode == 0, $"role b exited {b.ExitCode}: {b.StandardError.ReadToEnd()}");
        Assert.Equal("sgbench workload=pingpong-b ops=200", b.StandardOutput.ReadToEnd().Trim());
        Expect(a, "pingpong", 0, 200);
        long min = long.Parse(a["min_ns"], CultureInfo.InvariantCulture);
        long median = long.Parse(a["median_ns"], CultureInfo.InvariantCulture);
        long max = long.Parse(a["max_ns"], CultureInfo.InvariantCulture);
        long total = long.Parse(a["ns"], CultureInfo.InvariantCulture);
        Assert.True(min > 0 && min <= median && median <= max && max <= total && total >= 200 * min, $"round times are consistent: {a}");
        Assert.Equal(200UL, BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(Path.Combine(dir, "ping"))));
        Assert.Equal(200UL, BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(Path.Combine(dir, "pong"))));
    }

    [SkippableFact]
    public void DropCaches_WorksAsRoot_AndOtherwiseFailsNamingTheFile()
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch("tmp");
        Run("seqwrite", dir, "1");
        if (Environment.IsPrivilegedProcess)
        {
            Expect(Run("--drop-caches", "seqread", dir, "1"), "seqread", MiB, 1);
        }
        else
        {
            Assert.Contains("sgbench: seqread: open /proc/sys/vm/drop_caches: ", Fails("--drop-caches", "seqread", dir, "1"), StringComparison.Ordinal);
        }
    }

    [SkippableTheory]
    [InlineData("", "")]
    [InlineData("seqwrite", "sgbench: seqwrite: want DIR MIB")]
    [InlineData("seqwrite DIR", "sgbench: seqwrite: want DIR MIB")]
    [InlineData("seqwrite DIR 1 2", "sgbench: seqwrite: want DIR MIB")]
    [InlineData("randread DIR 1", "sgbench: randread: want DIR MIB COUNT")]
    [InlineData("seqwrite DIR x", "sgbench: seqwrite: MIB 'x': want a decimal number 1..4294967295")]
    [InlineData("seqwrite DIR 0", "sgbench: seqwrite: MIB '0': want a decimal number")]
    [InlineData("seqwrite DIR -1", "sgbench: seqwrite: MIB '-1'")]
    [InlineData("seqwrite DIR +1", "sgbench: seqwrite: MIB '+1'")]
    [InlineData("seqwrite DIR 1x", "sgbench: seqwrite: MIB '1x'")]
    [InlineData("seqwrite DIR 0x10", "sgbench: seqwrite: MIB '0x10'")]
    [InlineData("seqwrite DIR 4294967296", "sgbench: seqwrite: MIB '4294967296'")]
    [InlineData("seqwrite DIR 99999999999999999999999", "sgbench: seqwrite: MIB '99999999999999999999999'")]
    [InlineData("randwrite DIR 4 0", "sgbench: randwrite: COUNT '0'")]
    [InlineData("pingpong DIR c 3", "sgbench: pingpong: ROLE 'c': want a or b")]
    [InlineData("pingpong DIR a 0", "sgbench: pingpong: ROUNDS '0'")]
    [InlineData("frob DIR 1", "sgbench: unknown workload 'frob'")]
    [InlineData("--fast seqwrite DIR 1", "sgbench: unknown option --fast")]
    [InlineData("--mmap create DIR 1", "sgbench: create: --mmap does not apply")]
    [InlineData("--mmap xwrite DIR 1", "sgbench: xwrite: --mmap does not apply")]
    public void BadArguments_PrintWhatIsWrongAndTheUsage_AndExit2(string words, string message)
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch("tmp");
        string[] args = words.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w == "DIR" ? dir : w).ToArray();

        var result = Reply(args);

        Assert.True(result.ExitCode == 2 && result.Stdout.Length == 0, result.ToString());
        Assert.StartsWith(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("usage: sgbench [--mmap] [--drop-caches] WORKLOAD DIR [ARGS]", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [SkippableFact]
    public void Failures_NameTheWorkloadOperationAndPath_AndExit1()
    {
        GuestEnvironment.RequireOrSkip();
        string dir = Scratch("tmp");
        string missing = Path.Combine(dir, "missing");
        string file = Path.Combine(dir, "file");
        File.WriteAllBytes(file, [1]);

        Assert.Equal($"sgbench: seqread: stat {missing}: No such file or directory", Fails("seqread", missing, "1"));
        Assert.Equal($"sgbench: create: stat {file}: Not a directory", Fails("create", file, "1"));
        Assert.Equal($"sgbench: seqread: stat {dir}/seq.dat: No such file or directory", Fails("seqread", dir, "1"));
        Run("seqwrite", dir, "1");
        Assert.Equal($"sgbench: seqread: size of {dir}/seq.dat: 1048576 bytes, fewer than the 2097152 asked for (run seqwrite with as many MiB first)",
            Fails("seqread", dir, "2"));
        Assert.StartsWith($"sgbench: randread: size of {dir}/seq.dat: 1048576 bytes", Fails("randread", dir, "2", "1"), StringComparison.Ordinal);
        Assert.Equal($"sgbench: readdir: opendir {dir}/meta: No such file or directory", Fails("readdir", dir, "1"));
        Assert.Equal($"sgbench: unlink: unlink {dir}/meta/f000000: No such file or directory", Fails("unlink", dir, "1"));
    }

    [SkippableFact]
    public void InABusyboxGuestOnTmpfs_EveryWorkloadRuns_DroppingCachesAsRoot_AndPingpongRunsOnOneVcpu()
    {
        GuestEnvironment.RequireOrSkip();
        using var guest = QemuGuest.Start(new GuestOptions(), output.WriteLine);
        guest.Exec("mkdir /tmp/bench");
        string[] commands =
        [
            "--drop-caches seqwrite /tmp/bench 8", "--drop-caches seqread /tmp/bench 8", "--mmap seqread /tmp/bench 8",
            "mmapread /tmp/bench 8", "--mmap seqwrite /tmp/bench 8", "randwrite /tmp/bench 8 500",
            "--mmap randwrite /tmp/bench 8 500", "randread /tmp/bench 8 500", "--mmap randread /tmp/bench 8 500",
            "create /tmp/bench 300", "stat /tmp/bench 300", "readdir /tmp/bench 300", "unlink /tmp/bench 300", "dirscale /tmp/bench 300", "rtt /tmp/bench 300",
            "xwrite /tmp/bench 8", "xread /tmp/bench 8", "--mmap xread /tmp/bench 8",
        ];
        var sums = new Dictionary<string, string>();
        foreach (string command in commands)
        {
            var reply = guest.Exec($"sgbench {command}");
            Assert.True(reply.Lines.Count == 1 && ResultLine().IsMatch(reply.Lines[0] + "\n"), reply.ToString());
            var words = Words(reply.Lines[0]);
            Assert.True(long.Parse(words["ns"], CultureInfo.InvariantCulture) > 0, reply.ToString());
            if (words.TryGetValue("sum", out string? sum))
            {
                sums[command] = sum;
            }
        }

        Assert.Equal(sums["--drop-caches seqread /tmp/bench 8"], sums["mmapread /tmp/bench 8"]);
        Assert.Equal(sums["randread /tmp/bench 8 500"], sums["--mmap randread /tmp/bench 8 500"]);
        Assert.Equal(sums["xread /tmp/bench 8"], sums["--mmap xread /tmp/bench 8"]);

        // One vCPU: each side's sched_yield between polls is what lets the other run.
        var pingpong = guest.Exec("sgbench pingpong /tmp/bench b 100 > /tmp/b.out & sgbench pingpong /tmp/bench a 100 && wait $! && cat /tmp/b.out");
        Assert.Equal("sgbench pingpong ready", pingpong.Lines[1]);
        Assert.Equal("sgbench workload=pingpong-b ops=100", pingpong.Lines[2]);
        Expect(Words(pingpong.Lines[0]), "pingpong", 0, 100);
        Assert.Equal(0, guest.Shutdown());
    }

    /// <summary>The pattern, offsets and sums of sgbench.c's header comment.</summary>
    private static class Mirror
    {
        private const ulong Golden = 0x9e3779b97f4a7c15;
        private const ulong Basis = 0xcbf29ce484222325;

        /// <summary>True if @data, the file's bytes from offset @start to @end, are the pattern of key 0.</summary>
        public static bool IsPattern(ReadOnlySpan<byte> data, long end, long start = 0)
        {
            if (data.Length != end - start)
            {
                return false;
            }

            for (long o = start; o < end; o += 8)
            {
                ulong w = (ulong)(o % Page == 0 ? o / 8 : o % MiB / 8);
                if (BinaryPrimitives.ReadUInt64LittleEndian(data[(int)(o - start)..]) != (w + 1) * Golden)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>randwrite's and randread's offsets: xorshift64 from a fixed seed.</summary>
        public static IEnumerable<long> Offsets(int mib, int count)
        {
            ulong x = Golden;
            for (int i = 0; i < count; i++)
            {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                yield return (long)(x % ((ulong)mib * 256)) * Page;
            }
        }

        public static string PageSum(ReadOnlySpan<byte> data) => Sum(data, Page);

        public static string FullSum(ReadOnlySpan<byte> data) => Sum(data, 8);

        public static string RandomSum(byte[] data, int mib, int count)
        {
            ulong h = Basis;
            foreach (long off in Offsets(mib, count))
            {
                h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan((int)off)));
            }

            return Hex(h);
        }

        private static string Sum(ReadOnlySpan<byte> data, int step)
        {
            ulong h = Basis;
            for (int o = 0; o < data.Length; o += step)
            {
                h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(data[o..]));
            }

            return Hex(h);
        }

        private static ulong Mix(ulong h, ulong w)
        {
            h = (h ^ w) * 0x100000001b3;
            return h ^ (h >> 32);
        }

        private static string Hex(ulong h) => h.ToString("x16", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\Asgbench workload=[a-z-]+ bytes=\d+ ops=\d+ ns=\d+( [a-z_]+=[0-9a-f]+)*\n\z")]
    private static partial Regex ResultLine();

    /// <summary>Checks the result line's workload, bytes and ops exactly, and that ns is positive.</summary>
    private static void Expect(Dictionary<string, string> words, string workload, long bytes, long ops)
    {
        Assert.Equal(workload, words["workload"]);
        Assert.Equal(bytes.ToString(CultureInfo.InvariantCulture), words["bytes"]);
        Assert.Equal(ops.ToString(CultureInfo.InvariantCulture), words["ops"]);
        Assert.True(long.Parse(words["ns"], CultureInfo.InvariantCulture) > 0, $"ns is positive: {words["ns"]}");
    }

    /// <summary>A fresh directory under /tmp ("tmp") or /dev/shm ("shm"), removed on Dispose.</summary>
    private string Scratch(string where)
    {
        string parent = where == "shm" ? "/dev/shm" : Path.GetTempPath();
        Skip.If(!Directory.Exists(parent), $"{parent} does not exist here");
        string dir = Path.Combine(parent, $"stargate-sgbench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        _scratch.Add(dir);
        return dir;
    }

    /// <summary>Runs sgbench, which must succeed with exactly one result line and nothing on stderr; its words.</summary>
    private static Dictionary<string, string> Run(params string[] args)
    {
        var result = Reply(args);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0 && ResultLine().IsMatch(result.Stdout), result.ToString());
        return Words(result.Stdout);
    }

    /// <summary>Runs sgbench, which must fail with exit 1, nothing on stdout and one line on stderr; that line.</summary>
    private static string Fails(params string[] args)
    {
        var result = Reply(args);
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(result.ExitCode == 1 && result.Stdout.Length == 0 && lines.Length == 1, result.ToString());
        return lines[0];
    }

    private static ProcessRunner.Result Reply(params string[] args) =>
        ProcessRunner.Run(GuestTools.Sgbench, args, TimeSpan.FromSeconds(120));

    private static Dictionary<string, string> Words(string line) =>
        line.Trim().Split(' ').Skip(1).Select(w => w.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
}
