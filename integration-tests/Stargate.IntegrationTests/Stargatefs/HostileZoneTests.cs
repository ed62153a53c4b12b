using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Stargate.Interop.Abi;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// A hostile guest can write anything anywhere in the zone. Rounds of random bytes splatted
/// over live metadata (inode records, both halves; page-table nodes; directory pages) of a
/// subtree, each followed by the guest walking, reading and mapping everything in it (an
/// ivshmem-plain guest, so no service acts on the garbage, mounts read-only): whatever each
/// operation answers, the kernel must stay healthy (no WARN or oops, which panic the guest), a
/// file outside the subtree must read right, and after the zone is restored the subtree must
/// read as the host reads it.
/// </summary>
public sealed class HostileZoneTests(ITestOutputHelper output)
{
    private const int Rounds = 5;
    private const int SplatsPerRound = 4;

    // The walk: every name, every stat, then read and map every file; errors are fine.
    private const string Walk =
        "ls -laR /mnt/a >/dev/null 2>&1; " +
        "for f in $(find /mnt/a 2>/dev/null); do " +
        "sgfstest sum $f; sgfstest mmsum $f populate; " +
        "done >/dev/null 2>&1; true";

    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void RandomGarbageOverLiveMetadata_NeverHurtsTheKernelOrOtherFiles(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var zone = TestZone.InShm();
        byte[] control = HostData.Random(200_000, 40);
        ZoneFiles.Put(zone, "/control", control);
        StargateCli.RunChecked("mkdir", "-p", zone.Path, "/a/b");
        var files = new Dictionary<string, byte[]>();
        for (int i = 0; i < 4; i++)
        {
            files[$"/a/f{i}"] = HostData.Random(1000 + (i * 700_000), 41 + i);
            files[$"/a/b/g{i}"] = HostData.Random(5000 + (i * 300_000), 51 + i);
        }

        foreach (var (path, data) in files)
        {
            ZoneFiles.Put(zone, path, data);
        }

        var targets = Targets(zone, ["/a", "/a/b", .. files.Keys]);

        using var guest = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(zone.Path), output);
        guest.MountZone(readOnly: true);
        var random = new Random(4242 + kernelId.Length);
        for (int round = 0; round < Rounds; round++)
        {
            var splatted = new Stack<(ulong Word, ulong Value)>();
            for (int s = 0; s < SplatsPerRound; s++)
            {
                ulong word = targets[random.Next(targets.Count)];
                ulong value = zone.ReadU64(word);
                splatted.Push((word, value));
                int bit = random.Next(64);
                value = random.Next(3) switch
                {
                    0 => value ^ (1UL << bit),
                    1 => value ^ (0xffUL << (bit & ~7)),
                    _ => (ulong)random.NextInt64(),
                };
                zone.WriteU64(word, value);
            }

            guest.TryExec(Walk);
            guest.AssertReads("/mnt/control", FileSum.Of(control));
            foreach (var (word, value) in splatted)
            {
                zone.WriteU64(word, value);
            }
        }

        // Restored: the subtree reads as it was put, in the guest and on the host.
        foreach (var (path, data) in files)
        {
            guest.AssertReads($"/mnt{path}", FileSum.Of(data));
            guest.Check(ZoneFiles.Get(zone, path).AsSpan().SequenceEqual(data), $"the host reads {path} as it was put");
        }

        guest.Finish();
    }

    /// <summary>
    /// Every u64 of the metadata of @paths: their inode records, their page-table nodes, and
    /// (directories) their entry pages.
    /// </summary>
    private static List<ulong> Targets(TestZone zone, IEnumerable<string> paths)
    {
        var words = new List<ulong>();
        foreach (string path in paths)
        {
            ulong ino = ZoneFiles.Ino(zone, path);
            ulong record = ZoneTables.InodeOffset(zone, ino);
            words.AddRange(Words(record, SgzAbi.InodeSize));
            var inode = ZoneTables.Inode(zone, ino);
            bool directory = (inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfdir;
            if (inode.PtDepth > 0)
            {
                CollectTable(zone, inode.PtRoot, inode.PtDepth, directory, words);
            }
        }

        return words;
    }

    private static void CollectTable(TestZone zone, ulong node, int level, bool withLeaves, List<ulong> words)
    {
        words.AddRange(Words(node, SgzAbi.PageSize));
        for (ulong i = 0; i < SgzAbi.PtEntries; i++)
        {
            ulong entry = zone.ReadU64(node + (i * 8));
            if ((entry & SgzAbi.PtePresent) == 0)
            {
                continue;
            }

            ulong frame = entry & SgzAbi.PteAddrMask;
            if (level == 1)
            {
                if (withLeaves)
                {
                    words.AddRange(Words(frame, SgzAbi.PageSize));
                }
            }
            else if ((entry & SgzAbi.PteHuge) == 0)
            {
                CollectTable(zone, frame, level - 1, withLeaves, words);
            }
        }
    }

    private static IEnumerable<ulong> Words(ulong offset, ulong length)
    {
        for (ulong at = offset; at < offset + length; at += 8)
        {
            yield return at;
        }
    }
}
