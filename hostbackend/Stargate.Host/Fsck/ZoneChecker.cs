using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Fsck;

/// <summary>
/// `stargate zone fsck`: checks a zone under its exclusive lock and, with
/// repair, fixes it through the zone's own journalled changes, walking again
/// after each round of fixes until nothing is left (or four rounds pass).
/// A zone whose superblock cannot be trusted throws: that is exit 2.
/// </summary>
public static class ZoneChecker
{
    private const int RepairRounds = 4;

    public static FsckReport Check(string path, bool repair)
    {
        var report = new FsckReport(path);
        CheckSuperblockChecksum(path, repair, report);
        var zone = Zone.OpenForCheck(path, repair, trustSuperblock: report.Problems.Count > 0);
        try
        {
            if (zone.JournalActive)
            {
                report.Problems.Add("journal: holds an unfinished change (its writer died mid-change); repair or opening the zone for writing undoes it");
                if (!repair)
                {
                    report.Notes.Add("the structure was not walked: it is mid-change until the journal is undone");
                    zone.Abandon();
                    return report;
                }

                report.Repairs.Add($"journal: undid the unfinished change ({zone.UndoInterruptedChange()} records)");
            }

            if (DataHeader.Problem(zone.Memory, zone.Superblock, zone.Geometry) is string problem)
            {
                report.Problems.Add($"data header: {zone.DataPath}: {problem}");
                if (repair && DataHeader.IsForeign(zone.Memory, zone.Superblock, zone.Geometry))
                {
                    report.Notes.Add($"data header: not repaired: {zone.DataPath} is another zone's data file; put this zone's own data file beside {zone.Path}");
                }
                else if (repair)
                {
                    DataHeader.Write(zone.Memory, zone.Superblock, zone.Geometry);
                    report.Repairs.Add("data header: rewritten to name this zone");
                }
            }

            if (!zone.WasClean)
            {
                report.Notes.Add("the last writer did not close the zone cleanly");
            }

            var walk = new ZoneWalk(zone);
            walk.Run();
            report.Problems.AddRange(walk.Problems);
            report.Notes.AddRange(walk.Notes);
            if (!repair)
            {
                zone.Abandon();
                return report;
            }

            report.Repaired = true;
            for (int round = 0; round < RepairRounds && walk.Problems.Count > 0; round++)
            {
                walk.Repair(report.Repairs);
                walk = new ZoneWalk(zone);
                walk.Run();
            }

            if (walk.Problems.Count == 0 && walk.KeptOrphans.Count > 0)
            {
                FreeOrphans(zone, walk, report);
                walk = new ZoneWalk(zone);
                walk.Run();
            }

            report.Remaining.AddRange(walk.Problems);
            zone.FinishRepair();
            return report;
        }
        catch
        {
            zone.Abandon();
            throw;
        }
    }

    /// <summary>
    /// Orphans are kept for peers that may have them open. With no service running (fsck
    /// holds the zone's lock) and no peer marked live, nobody can: repair frees them through
    /// the zone's own code, on a structure the walk has just found sound.
    /// </summary>
    private static void FreeOrphans(Zone zone, ZoneWalk walk, FsckReport report)
    {
        var live = Enumerable.Range(0, (int)zone.Geometry.MaxPeers).Where(p => zone.Peers.Record(p).State == SgzAbi.PeerLive).ToList();
        if (live.Count > 0)
        {
            report.Notes.Add($"{walk.KeptOrphans.Count} orphan(s) kept: the peer table marks slot(s) {string.Join(", ", live)} live");
            return;
        }

        int freed = zone.Orphans.FreeUnheld();
        report.Repairs.Add($"orphans: freed {freed} unlinked file(s) that no live peer can hold open");
    }

    /// <summary>
    /// A superblock whose crc alone is wrong, while its magic, version and geometry all
    /// check out, is a problem fsck reports (and with repair, rewrites) rather than a zone
    /// it cannot use; anything worse stays for the open to refuse (exit 2).
    /// </summary>
    private static void CheckSuperblockChecksum(string path, bool repair, FsckReport report)
    {
        using var file = ZoneFile.Open(path, repair ? ZoneFile.Mode.ReadWrite : ZoneFile.Mode.Read);
        int fd = (int)file.DangerousGetHandle();
        if (Sys.ErrnoOf(Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB)) != 0)
        {
            return; // a writer holds it: OpenForCheck says so
        }

        Span<byte> raw = stackalloc byte[SgzAbi.SuperblockSize];
        if (RandomAccess.Read(file, raw, 0) < raw.Length)
        {
            return;
        }

        var sb = MemoryMarshal.Read<SgzSuperblock>(raw);
        uint crc = SuperblockSeal.Crc(sb);
        if (sb.Magic != SgzAbi.Magic || sb.VersionMajor != SgzAbi.VersionMajor || sb.Crc == crc)
        {
            return;
        }

        try
        {
            var data = new FileInfo(ZoneFiles.DataPath(path));
            ZoneGeometry.FromSuperblock(sb, (ulong)RandomAccess.GetLength(file), data.Exists ? (ulong)data.Length : 0, path);
        }
        catch (ZoneException)
        {
            return;
        }

        report.Problems.Add($"superblock: checksum mismatch at offset 0x{SgzAbi.SuperblockCrcOffset:x} (stored 0x{sb.Crc:x8}, computed 0x{crc:x8}); the geometry it seals checks out");
        if (repair)
        {
            sb.Crc = crc;
            MemoryMarshal.Write(raw, in sb);
            RandomAccess.Write(file, raw, 0);
            report.Repairs.Add("superblock: checksum rewritten");
        }
    }
}
