using System.Formats.Tar;
using System.Text;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Stargate.Interop.Abi;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// A build-like workload across machines: guest A unpacks a tree of a thousand small files
/// (busybox tar, one create and write per file), guest B reads every file and checksums the
/// tree, the host deletes it, and the zone is clean.
/// </summary>
public sealed class WorkloadTests(ITestOutputHelper output)
{
    private const int Directories = 20;
    private const int FilesPerDirectory = 50;

    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void TreeUnpackedInOneGuest_ChecksumsInTheOther_AndTheHostDeletesIt(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        var (tar, tree) = MakeTree(seed: 61);
        using var served = ServedZone.Start(kernel, guests: 2, output, zone => ZoneFiles.Put(zone, "/src.tar", tar));
        var (a, b) = (served.Guests[0], served.Guests[1]);

        a.Exec("mkdir /mnt/tree && tar xf /mnt/src.tar -C /mnt/tree");
        var sum = b.Exec("sgfstest treesum /mnt/tree");
        var expected = TreeSum(tree);
        b.Check(sum["files"] == expected.Files.ToString(System.Globalization.CultureInfo.InvariantCulture) && sum["bytes"] == expected.Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && sum["crc"].EndsWith(expected.Crc.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
            $"B's treesum of A's unpacked tree: {sum.Text}; the host computes files={expected.Files} bytes={expected.Bytes} crc={expected.Crc:x8}");

        served.Host("rm", "--recursive", "/tree");
        a.Check(a.Exec("ls /mnt").Lines.SequenceEqual(["src.tar"]), "A lists the root without the tree the host deleted");
        b.Check(b.Fails("sgfstest sum /mnt/tree/d00/f000") == "ENOENT", "B no longer finds a file of the deleted tree");
        served.Finish();
    }

    /// <summary>A ustar archive of dNN/fNNN files of 0..6000 random bytes, and the same files by relative path.</summary>
    private static (byte[] Tar, SortedDictionary<string, byte[]> Files) MakeTree(int seed)
    {
        var random = new Random(seed);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true))
        {
            for (int d = 0; d < Directories; d++)
            {
                string dir = $"d{d:00}";
                writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, dir + "/") { Mode = (UnixFileMode)0x1ed });
                for (int f = 0; f < FilesPerDirectory; f++)
                {
                    byte[] data = new byte[random.Next(0, 6001)];
                    random.NextBytes(data);
                    string name = $"{dir}/f{f:000}";
                    files[name] = data;
                    writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1a4, DataStream = new MemoryStream(data) });
                }
            }
        }

        return (stream.ToArray(), files);
    }

    /// <summary>What `sgfstest treesum` prints for the tree: crc32c over each file's relative path, a NUL and its bytes, in sorted walk order.</summary>
    private static (int Files, long Bytes, uint Crc) TreeSum(SortedDictionary<string, byte[]> files)
    {
        uint crc = 0xffffffffu;
        long bytes = 0;
        foreach (var (path, data) in files)
        {
            crc = Crc32C.Append(crc, Encoding.UTF8.GetBytes(path + "\0"));
            crc = Crc32C.Append(crc, data);
            bytes += data.Length;
        }

        return (files.Count, bytes, ~crc);
    }
}
