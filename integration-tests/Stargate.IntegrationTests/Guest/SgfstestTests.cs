using System.Diagnostics;
using System.Globalization;
using System.Text;
using Stargate.Interop.Abi;
using Stargate.Testing;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// sgfstest, the guest's file-system tool, run on the host over ordinary files: its crc is the
/// zone header's crc32c (Stargate.Interop.Abi.Crc32C), its fill pattern is <see cref="FillPattern"/>,
/// its tree sum is <see cref="TreeSum"/>, its mapping commands see stores from elsewhere, its
/// locked appends lose and tear nothing, and every failure names the errno. The lock commands
/// run in a guest on tmpfs too.
/// </summary>
public sealed class SgfstestTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("stargate-sgfstest-");

    public void Dispose() => _scratch.Delete(recursive: true);

    [SkippableFact]
    public void SumAndMmsum_PrintSizeAndTheZoneHeadersCrc32c()
    {
        GuestEnvironment.RequireOrSkip();
        string check = Scratch("check", Encoding.ASCII.GetBytes("123456789"));
        byte[] data = new byte[(3 << 20) + 5];
        new Random(17).NextBytes(data);
        string big = Scratch("big", data);

        Assert.Equal("0xe3069283", Run("sum", check)["crc"]);
        string crc = "0x" + Crc32C.Compute(data).ToString("x8", CultureInfo.InvariantCulture);
        foreach (string[] command in new[] { new[] { "sum", big }, ["mmsum", big], ["mmsum", big, "populate"] })
        {
            var reply = Run(command);
            Assert.Equal(data.Length.ToString(CultureInfo.InvariantCulture), reply["size"]);
            Assert.Equal(crc, reply["crc"]);
        }
    }

    [SkippableFact]
    public void SumOfAnEmptyFile_IsSizeZeroAndTheEmptyCrc()
    {
        GuestEnvironment.RequireOrSkip();
        string empty = Scratch("empty", []);
        Assert.Equal("0x00000000", Run("sum", empty)["crc"]);
        Assert.Equal("0", Run("mmsum", empty)["size"]);
    }

    [SkippableFact]
    public void FillAndMmfill_WriteThePatternTheHostComputes_AtAnyOffset()
    {
        GuestEnvironment.RequireOrSkip();
        string file = Scratch("fill", new byte[3 << 20]);

        Assert.Equal("2100000", Run("fill", file, "12345", "2100000", "7")["written"]);
        Assert.Equal("5000", Run("mmfill", file, "2200003", "5000", "9")["written"]);

        byte[] expected = new byte[3 << 20];
        FillPattern.Write(7, 12345, expected.AsSpan(12345, 2100000));
        FillPattern.Write(9, 2200003, expected.AsSpan(2200003, 5000));
        Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(file)), "the file holds the two fills and zeros elsewhere");
    }

    [SkippableFact]
    public void Mmwait_SeesAStoreMadeAfterItMapped_AndMmpokeStoresThroughTheMapping()
    {
        GuestEnvironment.RequireOrSkip();
        string file = Scratch("shared", new byte[8192]);
        var info = new ProcessStartInfo(GuestTools.Sgfstest, ["mmwait", file, "4096", "0x1122334455667788", "60000"])
        {
            RedirectStandardOutput = true,
        };
        using var waiter = Process.Start(info)!;
        Assert.Equal("mapped=1 initial=0x0000000000000000", waiter.StandardOutput.ReadLine());

        Assert.Equal("0x1122334455667788", Run("mmpoke", file, "4096", "0x1122334455667788")["value"]);

        string last = waiter.StandardOutput.ReadToEnd();
        Assert.True(waiter.WaitForExit(60_000), "mmwait ended");
        Assert.Equal(0, waiter.ExitCode);
        Assert.StartsWith("seen=1 after_ms=", last, StringComparison.Ordinal);
        Assert.Equal(0x1122334455667788UL, BitConverter.ToUInt64(File.ReadAllBytes(file), 4096));
    }

    [SkippableFact]
    public void Mmhuge_PrintsTheMappingsFaultsAndSmapsSizes()
    {
        GuestEnvironment.RequireOrSkip();
        string file = Scratch("huge", new byte[4 << 20]);

        var reply = Run("mmhuge", file, "fixed");

        Assert.Equal("1", reply["aligned"]);
        Assert.Equal("1024", reply["pages"]);
        Assert.Equal("2", reply["chunks"]);
        Assert.Equal("4096", reply["size_kb"]);
        foreach (string key in new[] { "faults", "rss_kb", "file_pmd_mapped_kb", "anon_huge_kb" })
        {
            Assert.True(long.TryParse(reply[key], CultureInfo.InvariantCulture, out _), $"{key} is a number: {reply}");
        }

        Assert.Contains("rd", reply["vmflags"].Split(','));
    }

    [SkippableFact]
    public void Failures_PrintTheErrnoName_AndExit1()
    {
        GuestEnvironment.RequireOrSkip();
        string small = Scratch("small", new byte[100]);

        Assert.Equal("ENOENT", Fails("sum", Path.Combine(_scratch.FullName, "missing"))["error"]);
        Assert.Equal("EISDIR", Fails("fill", _scratch.FullName, "0", "1", "1")["error"]);
        Assert.Equal("SIGBUS", Fails("mmfill", small, "8192", "8", "1")["error"]);
        var timeout = Fails("mmwait", small, "0", "1", "10");
        Assert.Equal("ETIMEDOUT", timeout["error"]);
        Assert.Equal("0x0000000000000000", timeout["value"]);
        Assert.Equal("ENOENT", Fails("mount", "0", Path.Combine(_scratch.FullName, "no-dir"))["error"]);
    }

    [SkippableFact]
    public void WithoutArguments_PrintsUsageAndExits2()
    {
        GuestEnvironment.RequireOrSkip();
        var result = ProcessRunner.Run(GuestTools.Sgfstest, []);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("usage: sgfstest sum FILE", result.Stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Treesum_OfATree_IsWhatTheHostComputes_WalkingNamesBytewise_AndSkippingSymlinks()
    {
        GuestEnvironment.RequireOrSkip();
        string root = Path.Combine(_scratch.FullName, "tree");
        var random = new Random(5);
        foreach (string file in new[] { "B", "ab", "a.b", "a-b/x", "a/z", "a/y/deep", "a/y/empty", "é", "d/e/f/g" })
        {
            string path = Path.Combine(root, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            byte[] data = new byte[file.Contains("empty", StringComparison.Ordinal) ? 0 : random.Next(1, 300_000)];
            random.NextBytes(data);
            File.WriteAllBytes(path, data);
        }

        Directory.CreateDirectory(Path.Combine(root, "emptydir"));
        File.CreateSymbolicLink(Path.Combine(root, "link-to-a"), Path.Combine(root, "a"));
        File.CreateSymbolicLink(Path.Combine(root, "a", "link-to-B"), Path.Combine(root, "B"));

        var reply = Run("treesum", root);

        var expected = TreeSum.Of(root);
        Assert.Equal(expected.ToString(), string.Join(' ', reply.Lines));
        Assert.Equal("9", reply["files"]);
        Assert.Equal("7", reply["dirs"]);
    }

    [SkippableFact]
    public void Treesum_OfAnEmptyDirectory_IsZeroEverywhere()
    {
        GuestEnvironment.RequireOrSkip();
        string root = Path.Combine(_scratch.FullName, "empty");
        Directory.CreateDirectory(root);
        Assert.Equal("files=0 dirs=0 bytes=0 crc=00000000", string.Join(' ', Run("treesum", root).Lines));
    }

    [SkippableFact]
    public void Checkrecords_AcceptsInterleavedTags_EachNumberedInOrder()
    {
        GuestEnvironment.RequireOrSkip();
        string file = Scratch("records", Records(("a", 0), ("b", 0), ("a", 1), ("b", 1), ("b", 2), ("a", 2)));
        Assert.Equal("6", Run("checkrecords", file, "a", "3", "b", "3")["records"]);
        Assert.Equal("0", Run("checkrecords", Scratch("none", []), "a", "0")["records"]);
    }

    [SkippableTheory]
    [InlineData("lost", "number 2 where 1 was due")]
    [InlineData("repeated", "number 0 where 1 was due")]
    [InlineData("short", "has 2 records of 3")]
    [InlineData("stranger", "tag 'c' is not one of the expected")]
    [InlineData("torn", "not whole 32-byte records")]
    [InlineData("garbled", "not TAG NNNNNNNN")]
    public void Checkrecords_WhenARecordIsLostRepeatedForeignOrTorn_FailsWithEBADMSG_SayingWhich(string damage, string message)
    {
        GuestEnvironment.RequireOrSkip();
        byte[] good = Records(("a", 0), ("a", 1), ("a", 2));
        byte[] data = damage switch
        {
            "lost" => Records(("a", 0), ("a", 2)),
            "repeated" => Records(("a", 0), ("a", 0), ("a", 1), ("a", 2)),
            "short" => Records(("a", 0), ("a", 1)),
            "stranger" => Records(("a", 0), ("c", 0), ("a", 1), ("a", 2)),
            "torn" => good[..^5],
            _ => [.. good[..40], (byte)'x', .. good[41..]],
        };

        var reply = Reply(["checkrecords", Scratch(damage, data), "a", "3"]);

        // The error line on stdout, then what is wrong on stderr.
        Assert.True(reply.ExitCode == 1 && reply.Lines.Count == 2, reply.ToString());
        Assert.Equal("EBADMSG", reply["error"]);
        Assert.Contains(message, reply.Lines[1], StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("flock")]
    [InlineData("posix")]
    public void Lockappend_FromConcurrentProcesses_LeavesEveryRecordOnce_InEachWritersOrder(string kind)
    {
        GuestEnvironment.RequireOrSkip();
        string file = Path.Combine(_scratch.FullName, "appends");
        var writers = Enumerable.Range(1, 3)
            .Select(i => Task.Run(() => Reply(["lockappend", file, "500", $"w{i}", kind])))
            .ToArray();
        Task.WaitAll(writers);

        Assert.All(writers, w => Assert.Equal("500", w.Result["records"]));
        Assert.Equal("1500", Run("checkrecords", file, "w1", "500", "w2", "500", "w3", "500")["records"]);
    }

    [SkippableTheory]
    [InlineData("flock", "flock")]
    [InlineData("posix", "fcntl")]
    public void Trylock_WhileLockholdHoldsTheFile_FailsWithEAGAIN_ButSharedLocksShare(string kind, string call)
    {
        GuestEnvironment.RequireOrSkip();
        string file = Scratch("locked", [1]);
        using (var holder = Hold(file, kind))
        {
            var refused = Fails("trylock", file, kind);
            Assert.Equal("EAGAIN", refused["error"]);
            Assert.Equal(call, refused["call"]);
            Assert.Equal("EAGAIN", Fails("trylock", file, kind, "shared")["error"]);
        }

        using (var sharer = Hold(file, kind, "shared"))
        {
            Assert.Equal("1", Run("trylock", file, kind, "shared")["locked"]);
            Assert.Equal("EAGAIN", Fails("trylock", file, kind)["error"]);
        }

        Assert.Equal("1", Run("trylock", file, kind)["locked"]);
    }

    [SkippableFact]
    public void LockCommands_InAGuestOnTmpfs_AppendWithoutLoss_AndExcludeEachOther()
    {
        GuestEnvironment.RequireOrSkip();
        using var guest = QemuGuest.Start(new GuestOptions(), output.WriteLine);

        foreach (string kind in new[] { "flock", "posix" })
        {
            string file = $"/tmp/{kind}.records";
            var writers = guest.Exec($"for t in a b c; do sgfstest lockappend {file} 300 $t {kind} & done; wait");
            Assert.Equal(3, writers.Lines.Count(l => l == "records=300"));
            Assert.Equal("900", guest.Exec($"sgfstest checkrecords {file} a 300 b 300 c 300")["records"]);

            guest.Exec($"sgfstest lockhold {file} {kind} > /tmp/hold.out & holder=$!");
            guest.Exec("for i in $(seq 1 100); do grep -q locked=1 /tmp/hold.out && break; usleep 50000; done; cat /tmp/hold.out");
            var refused = guest.TryExec($"sgfstest trylock {file} {kind}");
            Assert.Equal(1, refused.ExitCode);
            Assert.Equal("EAGAIN", refused["error"]);
            Assert.Equal("143", guest.Exec("kill $holder; wait $holder; echo status=$?")["status"]); // 128 + SIGTERM: the holder, still holding, was killed
            Assert.Equal("1", guest.Exec($"sgfstest trylock {file} {kind}")["locked"]);
        }

        guest.Exec("mkdir -p /tmp/tree/d/e && printf abc > /tmp/tree/d/x && printf '' > /tmp/tree/d/e/empty && printf 0123456789 > /tmp/tree/B && ln -s d /tmp/tree/link");
        string root = Path.Combine(_scratch.FullName, "guest-tree");
        Directory.CreateDirectory(Path.Combine(root, "d", "e"));
        File.WriteAllText(Path.Combine(root, "d", "x"), "abc");
        File.WriteAllText(Path.Combine(root, "d", "e", "empty"), string.Empty);
        File.WriteAllText(Path.Combine(root, "B"), "0123456789");
        Assert.Equal(TreeSum.Of(root).ToString(), string.Join(' ', guest.Exec("sgfstest treesum /tmp/tree").Lines));
        Assert.Equal(0, guest.Shutdown());
    }

    /// <summary>
    /// sgfstest treesum's sum, computed here (the algorithm is in sgfstest.c's header comment):
    /// depth first, each directory's entries in bytewise order of their UTF-8 names, symbolic
    /// links left out; crc32c over each regular file's relative path, a NUL and its bytes.
    /// </summary>
    public sealed record TreeSum(long Files, long Dirs, long Bytes, uint Crc)
    {
        public static TreeSum Of(string root)
        {
            var sum = new TreeSum(0, 0, 0, 0xffffffffu);
            sum = Walk(root, string.Empty, sum);
            return sum with { Crc = ~sum.Crc };
        }

        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"files={Files} dirs={Dirs} bytes={Bytes} crc={Crc:x8}");

        private static TreeSum Walk(string dir, string relative, TreeSum sum)
        {
            var entries = new DirectoryInfo(dir).EnumerateFileSystemInfos()
                .OrderBy(e => Encoding.UTF8.GetBytes(e.Name), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)));
            foreach (var entry in entries)
            {
                string path = relative.Length == 0 ? entry.Name : $"{relative}/{entry.Name}";
                if (entry.LinkTarget is not null)
                {
                    continue;
                }

                if (entry is DirectoryInfo)
                {
                    sum = Walk(entry.FullName, path, sum with { Dirs = sum.Dirs + 1 });
                    continue;
                }

                byte[] data = File.ReadAllBytes(entry.FullName);
                uint crc = Crc32C.Append(sum.Crc, [.. Encoding.UTF8.GetBytes(path), 0]);
                sum = sum with { Files = sum.Files + 1, Bytes = sum.Bytes + data.Length, Crc = Crc32C.Append(crc, data) };
            }

            return sum;
        }
    }

    /// <summary>sgfstest's 32-byte records: "TAG NNNNNNNN", spaces to byte 30, '\n'.</summary>
    private static byte[] Records(params (string Tag, int Number)[] records) =>
        Encoding.ASCII.GetBytes(string.Concat(records.Select(r =>
            string.Create(CultureInfo.InvariantCulture, $"{r.Tag} {r.Number:D8}").PadRight(31) + "\n")));

    /// <summary>sgfstest lockhold in the background, once it says it holds the lock; killed on Dispose.</summary>
    private static Holder Hold(string file, params string[] words)
    {
        var holder = new Holder(Process.Start(new ProcessStartInfo(GuestTools.Sgfstest, ["lockhold", file, .. words]) { RedirectStandardOutput = true })!);
        Assert.Equal("locked=1", holder.Process.StandardOutput.ReadLine());
        return holder;
    }

    private sealed class Holder(Process process) : IDisposable
    {
        public Process Process => process;

        public void Dispose()
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }

    private string Scratch(string name, byte[] data)
    {
        string path = Path.Combine(_scratch.FullName, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    private static GuestReply Run(params string[] args)
    {
        var reply = Reply(args);
        Assert.True(reply.ExitCode == 0, reply.ToString());
        return reply;
    }

    private static GuestReply Fails(params string[] args)
    {
        var reply = Reply(args);
        // One line, the failure; mmwait's "mapped=1" line comes before it.
        Assert.True(reply.ExitCode == 1 && reply.Lines.Count >= 1 && reply.Lines[^1].Contains("error=", StringComparison.Ordinal),
            $"expected exit 1 and the failure on the last line: {reply}");
        return reply;
    }

    private static GuestReply Reply(string[] args)
    {
        var r = ProcessRunner.Run(GuestTools.Sgfstest, args, TimeSpan.FromSeconds(60));
        string[] lines = (r.Stdout + r.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return new GuestReply($"sgfstest {string.Join(' ', args)}", r.ExitCode, lines);
    }
}
