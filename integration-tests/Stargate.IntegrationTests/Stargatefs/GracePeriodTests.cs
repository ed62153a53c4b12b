using System.Globalization;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// The grace period (docs/zone-format.md): pages freed by a truncate in one guest are handed
/// to another file only after every guest dropped its mappings of them. Guest A keeps storing
/// through a mapping of a file while guest B truncates the file and writes a new one that can
/// only live in the freed pages (the zone is otherwise full): A's stores never reach B's file,
/// A gets SIGBUS (its mapping now lies past the end of the file), and the new file does take
/// the freed pages once A acknowledged, which `stargate peers` then shows.
/// </summary>
public sealed class GracePeriodTests(ITestOutputHelper output)
{
    private const int FileBytes = 24 << 20;
    private const int FillerBytes = 36 << 20;   // with the 24 MiB file, 60 of the 62 MiB of data chunks
    private const ulong Stray = 0x5374726179416161;   // "aaAyartS"

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void StoresThroughAMappingOfATruncatedFile_NeverReachTheFileThatGetsItsPages(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        IReadOnlyList<ZoneFiles.Extent> old = [];
        using var served = ServedZone.Start(kernel, guests: 2, output, prepare: zone =>
        {
            ZoneFiles.Put(zone, "/f", FillPattern.Bytes(1, 0, FileBytes));
            ZoneFiles.Put(zone, "/filler", new byte[FillerBytes]);
            old = ZoneFiles.Extents(zone, "/f");
        });
        var (a, b) = (served.Guests[0], served.Guests[1]);

        string stores = a.Background($"sgfstest mmstore /mnt/f 0x{Stray.ToString("x16", CultureInfo.InvariantCulture)} 60000", "mapped=1");
        b.Exec("sgfstest ftruncate /mnt/f 0 644");

        // The freed pages come back once both guests acknowledged; until then B's file has no room.
        int blocks = FileBytes / 4096;
        // A subshell: the guest's command shell must not exit.
        var waited = b.TryExec($"(for i in $(seq 300); do if [ $(stat -f -c %f /mnt) -ge {blocks} ]; then echo free=$(stat -f -c %f /mnt); exit 0; fi; sleep 0.1; done; exit 1)");
        b.Check(waited.ExitCode == 0, $"the truncated file's {blocks} pages are free again within 30 s: {waited}");
        // `stargate peers` shows the epoch the truncate posted, and each guest's acknowledgement of it.
        var peers = served.Server.Peers();
        ulong? posted = peers.Single(p => p.Kind == "host").GraceEpoch;
        b.Check(posted >= 1 && peers.Where(p => p.Kind == "guest").All(p => p.GraceEpoch == posted),
            $"peers: posted epoch {posted}, the guests acknowledged {string.Join(", ", peers.Where(p => p.Kind == "guest").Select(p => $"{p.Id}: {p.GraceEpoch}"))}");
        b.Exec($": > /mnt/g && sgfstest fill /mnt/g 0 {FileBytes} 2");

        var stored = a.Join(stores);
        var expected = FileSum.Of(FillPattern.Bytes(2, 0, FileBytes));
        b.Check(b.Sum("/mnt/g") == expected, "B reads its own bytes in the new file: none of A's stores reached it");
        a.Check(a.Sum("/mnt/g") == expected, "A reads B's bytes in the new file");
        a.Check(stored.ExitCode == 0 && stored["sigbus"] == "1", $"A's stores end with SIGBUS once its mapping is dropped: {stored}");
        a.Check(a.Sum("/mnt/f").Size == 0, "A sees the truncated file empty");

        var now = ZoneFiles.Extents(served.Zone, "/g");
        bool reused = now.Any(g => old.Any(f => g.ZoneOffset < f.ZoneOffset + f.Length && f.ZoneOffset < g.ZoneOffset + g.Length));
        b.Check(reused, $"the new file lies in pages the truncated file held (old {Describe(old)}, new {Describe(now)})");

        served.Finish();
    }

    private static string Describe(IReadOnlyList<ZoneFiles.Extent> extents) =>
        string.Join(' ', extents.Select(e => string.Create(CultureInfo.InvariantCulture, $"0x{e.ZoneOffset:x}+0x{e.Length:x}")));
}
