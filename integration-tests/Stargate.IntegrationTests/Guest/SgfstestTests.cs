using System.Diagnostics;
using System.Globalization;
using System.Text;
using Stargate.IntegrationTests.Support;
using Stargate.Interop.Abi;
using Stargate.Testing;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// sgfstest, the guest's file-system tool, run on the host over ordinary files: its crc is the
/// zone header's crc32c (Stargate.Interop.Abi.Crc32C), its fill pattern is <see cref="FillPattern"/>,
/// its mapping commands see stores from elsewhere, and every failure names the errno.
/// </summary>
public sealed class SgfstestTests : IDisposable
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
