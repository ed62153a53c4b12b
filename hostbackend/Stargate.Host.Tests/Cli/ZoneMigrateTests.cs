using System.Security.Cryptography;
using System.Text.Json;
using Stargate.Host.Zones;
using Stargate.Host.Zones.Format1;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;
using static Stargate.Host.Zones.Format1.Format1Layout;

namespace Stargate.Host.Tests.Cli;

/// <summary>`stargate zone migrate OLD NEW`: format 1 zones written by the 4d716a7 host (fixtures/) into format 2.</summary>
public class ZoneMigrateTests
{
    [Fact]
    public void Migrate_CopiesEveryNameByteForByteWithItsAttributes_AndLeavesOldAsItWas()
    {
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);
        string before = old.Hash();

        var r = CliAssert.Succeeds(StargateProcess.Run("zone", "migrate", old.Path, fresh.Path));

        Assert.Contains("format 1.2", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, old.Hash());
        Assert.Equal(0, StargateProcess.Run("zone", "fsck", fresh.Path).ExitCode);
        foreach (string file in new[] { fresh.Path, fresh.DataPath })
        {
            Assert.Equal(0, Libc.Stat(file, out var status));
            Assert.Equal(0x180u, status.Permissions); // 0600, as zone create makes it
        }

        using var zone = Zone.Open(fresh.Path, ZoneAccess.ReadOnly);
        Format1Zone Zone1() => Format1Zone.Open(old.Path);
        var manifest = Format1Fixture.Manifest();
        Assert.Equal(manifest.Select(e => e.GetProperty("path").GetString()).Order(StringComparer.Ordinal), Paths(zone, SgzAbi.RootIno, string.Empty).Order(StringComparer.Ordinal));
        var inodes = new Dictionary<ulong, ulong>();
        foreach (var e in manifest)
        {
            string path = e.GetProperty("path").GetString()!;
            var info = zone.Names.Stat(path);
            string what = $"'{path}'";
            Assert.True(e.GetProperty("mode").GetUInt32() == info.Mode, $"{what}: mode 0{Convert.ToString(info.Mode, 8)}");
            Assert.True(e.GetProperty("uid").GetUInt32() == info.Uid && e.GetProperty("gid").GetUInt32() == info.Gid, $"{what}: owner {info.Uid}:{info.Gid}");
            Assert.True(e.GetProperty("nlink").GetUInt32() == info.Nlink, $"{what}: nlink {info.Nlink}");
            Assert.True(e.GetProperty("size").GetUInt64() == info.Size, $"{what}: size {info.Size}");
            Assert.True(e.GetProperty("atime_ns").GetUInt64() == info.AtimeNs && e.GetProperty("mtime_ns").GetUInt64() == info.MtimeNs, $"{what}: times {info.AtimeNs} {info.MtimeNs}");
            if (e.TryGetProperty("sha256", out var sha))
            {
                var bytes = new byte[info.Size];
                Assert.Equal(bytes.Length, zone.Files.Read(info.Ino, 0, bytes));
                Assert.True(sha.GetString() == Convert.ToHexStringLower(SHA256.HashData(bytes)), $"{what}: contents differ");
            }

            if (e.TryGetProperty("target", out var target))
            {
                Assert.Equal(target.GetString(), System.Text.Encoding.UTF8.GetString(zone.Names.ReadLink(info.Ino)));
            }

            // Names that shared an inode share one now, and only those.
            ulong oldIno = e.GetProperty("ino").GetUInt64();
            Assert.Equal(inodes.GetValueOrDefault(oldIno, info.Ino), info.Ino);
            inodes[oldIno] = info.Ino;
        }

        Assert.Equal(inodes.Count, inodes.Values.Distinct().Count());

        // ctime comes along too (the manifest has none: the old zone's own inodes give it).
        using (var oldZone = Zone1())
        {
            var tree = new Format1Walk(oldZone).Read();
            foreach (var e in tree.Entries)
            {
                ulong ctime = zone.Names.Stat(e.Path.TrimStart('/')).CtimeNs;
                Assert.True(tree.Nodes[e.Ino].CtimeNs == ctime, $"'{e.Path}': ctime {ctime}, the old zone had {tree.Nodes[e.Ino].CtimeNs}");
            }
        }
        Assert.Equal(3u, zone.Names.Stat("hard/one").Nlink);

        // Holes stay holes: 40 MiB of size, two written ranges.
        Assert.InRange(zone.Names.Stat("big/sparse.bin").Pages, 1UL, 2UL * SgzAbi.PagesPerChunk);
        Assert.InRange(zone.Names.Stat("big/small-sparse").Pages, 1UL, 4UL);
    }

    public static TheoryData<string> Corruptions => ["superblock crc", "directory entry", "page-table entry", "directory size"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Migrate_WhenOldIsCorrupt_FailsNamingWhere_AndMakesNoNewZone(string corruption)
    {
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);
        string[] mentions = corruption switch
        {
            "superblock crc" => Corrupt(old, SbCrc, old.U64At(SbCrc) ^ 0x10, "superblock checksum mismatch"),
            "directory entry" => Corrupt(old, old.FirstDirectoryPage("docs") + DirPageHeader + DirentName, old.U64At(old.FirstDirectoryPage("docs") + DirPageHeader + DirentName) ^ 1, "/docs: entry at zone offset", "checksum mismatch"),
            "page-table entry" => Corrupt(old, old.U64At(old.InodeAt(Format1Fixture.InodeOf("big/dense.bin")) + InodePtRoot), 0x1000 | PtePresent | PteHuge, "/big/dense.bin", "outside the data region or misaligned"),
            _ => Corrupt(old, old.InodeAt(Format1Fixture.InodeOf("many")) + InodeFileSize, old.U64At(old.InodeAt(Format1Fixture.InodeOf("many")) + InodeFileSize) + 100, "/many", "directory size"),
        };
        string before = old.Hash();

        var r = StargateProcess.Run("zone", "migrate", old.Path, fresh.Path);

        CliAssert.FailsWithOneLine(r, 1, [old.Path, "corrupt", "nothing was migrated", .. mentions]);
        Assert.False(File.Exists(fresh.Path) || File.Exists(fresh.DataPath), "no new zone is left");
        Assert.Equal(before, old.Hash());
    }

    [Fact]
    public void Migrate_WhenNewExists_RefusesWithoutForce_AndFormatsOverItWithForce()
    {
        using var old = new Format1Fixture();
        using var existing = new TempZone(16UL << 20);
        ZoneContent.Write(existing, "keep", [1, 2, 3]);

        var r = StargateProcess.Run("zone", "migrate", old.Path, existing.Path);

        CliAssert.FailsWithOneLine(r, 1, existing.Path, "already exists", "--force");
        Assert.Equal([1, 2, 3], ZoneContent.Read(existing.Path, "keep"));

        CliAssert.Succeeds(StargateProcess.Run("zone", "migrate", old.Path, existing.Path, "--force"));
        Assert.False(ZoneContent.Exists(existing.Path, "keep"));
        Assert.Equal(100UL, (ulong)ZoneContent.Read(existing.Path, "docs/readme.txt").Length);
    }

    [Fact]
    public void Migrate_WhenNewIsTooSmall_FailsWithNoSpace_AndRemovesNew()
    {
        using var old = new Format1Fixture("format1-full.zone.gz");
        using var fresh = new TempZone(format: false);

        var r = StargateProcess.Run("zone", "migrate", old.Path, fresh.Path, "--size", "16M");

        CliAssert.FailsWithOneLine(r, 1, fresh.Path, "no space left", "/zeros", "--size");
        Assert.False(File.Exists(fresh.Path) || File.Exists(fresh.DataPath), "no new zone is left");

        CliAssert.Succeeds(StargateProcess.Run("zone", "migrate", old.Path, fresh.Path));
        using var zone = Zone.Open(fresh.Path, ZoneAccess.ReadOnly);
        var zeros = zone.Names.Stat("zeros");
        Assert.Equal(20UL << 20, zeros.Size);
        Assert.True(zeros.Pages >= (20UL << 20) / ZoneGeometry.PageSize, $"the written zeros stay allocated ({zeros.Pages} pages)");
    }

    [Fact]
    public void Migrate_WithGroup_MakesBothNewFiles0660OwnedByIt()
    {
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);

        CliAssert.Succeeds(StargateProcess.Run("zone", "migrate", old.Path, fresh.Path, "--group", "4242"));

        foreach (string file in new[] { fresh.Path, fresh.DataPath })
        {
            Assert.Equal(0, Libc.Stat(file, out var status));
            Assert.Equal((0x1b0u, 4242u), (status.Permissions, status.Gid));
        }
    }

    [Fact]
    public void Migrate_WhenOldIsFormat2_RefusesAsAlreadyMigrated()
    {
        using var zone = new TempZone(16UL << 20);
        using var fresh = new TempZone(format: false);

        var r = StargateProcess.Run("zone", "migrate", zone.Path, fresh.Path);

        CliAssert.FailsWithOneLine(r, 1, zone.Path, $"already zone format {SgzAbi.VersionMajor}.{SgzAbi.VersionMinor}", "nothing to migrate");
        Assert.False(File.Exists(fresh.Path));
    }

    [Fact]
    public void Migrate_WhenOldHoldsADeviceNode_RefusesNamingIt()
    {
        // No format 1 host made one (mknod of a device was refused), so the fixture's fifo is
        // turned into one, inode and entry sealed again as a writer would have.
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);
        ulong fifo = Format1Fixture.InodeOf("fifo");
        ulong page = old.FirstDirectoryPage(string.Empty);
        old.Rewrite(old.InodeAt(fifo), InodeRecordSize, InodeCrc, r => BitConverter.TryWriteBytes(r.AsSpan(InodeMode), SIfchr | 0x1a0));
        int slot = Enumerable.Range(0, DirentsPerPage).Single(i => old.U64At(page + DirPageHeader + (ulong)(i * DirentRecordSize)) == fifo);
        old.Rewrite(page + DirPageHeader + (ulong)(slot * DirentRecordSize), DirentRecordSize, DirentCrc, d => d[DirentType] = TypeOf(SIfchr));

        var r = StargateProcess.Run("zone", "migrate", old.Path, fresh.Path);

        CliAssert.FailsWithOneLine(r, 1, old.Path, "/fifo is a device node", "nothing was migrated");
        Assert.False(File.Exists(fresh.Path));
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "writer", "is open for writing" },
        { "live guest", "guest peer slot 1 is live" },
        { "unfinished journal", "the journal holds an unfinished change" },
        { "served", "is served by stargate serve" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Migrate_WhenSomethingMayStillChangeOld_RefusesWithOneLine(string state, string mention)
    {
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);
        using var writer = File.OpenHandle(old.Path, FileMode.Open, FileAccess.ReadWrite);
        using var serve = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        string serveFile = old.Path + ".serve", socketPath = old.Path + ".sock";
        switch (state)
        {
            case "served":
                // What a serve publishes: OLD.serve names a control socket someone of this user answers on.
                serve.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
                serve.Listen();
                File.WriteAllText(serveFile, socketPath + "\n");
                break;
            case "writer":
                Assert.Equal(0, Libc.Flock((int)writer.DangerousGetHandle(), Libc.LOCK_EX | Libc.LOCK_NB));
                break;
            case "live guest":
                ulong peer = old.Region(RegionPeerTable) + (ulong)PeerSize;
                old.Write(peer + PeerState, PeerLive, 4);
                old.Write(peer + PeerPid, (ulong)Environment.ProcessId);
                break;
            default:
                old.Write(old.Region(RegionJournal) + JournalState, 1, 4);
                break;
        }

        StargateProcess.Result r;
        try
        {
            r = StargateProcess.Run("zone", "migrate", old.Path, fresh.Path);
        }
        finally
        {
            File.Delete(serveFile);
            File.Delete(socketPath);
        }

        CliAssert.FailsWithOneLine(r, 1, old.Path, mention);
        Assert.False(File.Exists(fresh.Path));
    }

    [Fact]
    public void Migrate_WhenAPlainGuestsHeartbeatMoves_RefusesIt()
    {
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);
        ulong area = old.Region(RegionRings) + (old.U64At((ulong)SbRingBytes) & uint.MaxValue); // slot 1's: rings + 1 x ring_bytes
        old.Write(area + RingClaim, 0x1234_5678);
        using var stop = new CancellationTokenSource();
        var guest = new Thread(() =>
        {
            for (ulong beat = 1; !stop.IsCancellationRequested; beat++)
            {
                old.Write(area + RingHeartbeat, beat);
                Thread.Sleep(20);
            }
        });
        guest.Start();

        StargateProcess.Result r;
        try
        {
            r = StargateProcess.Run("zone", "migrate", old.Path, fresh.Path);
        }
        finally
        {
            stop.Cancel();
            guest.Join();
        }

        CliAssert.FailsWithOneLine(r, 1, old.Path, "ivshmem-plain", "peer slot 1", "heartbeat moves");
        Assert.False(File.Exists(fresh.Path));
    }

    [Fact]
    public void Migrate_WhenPeersAreDead_MigratesAnyway()
    {
        // A slot left live by a QEMU that is gone, and a plain guest's claim whose heartbeat stands still.
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);
        using var exited = System.Diagnostics.Process.Start("true");
        exited.WaitForExit();
        ulong peer = old.Region(RegionPeerTable) + (2 * (ulong)PeerSize);
        old.Write(peer + PeerState, PeerLive, 4);
        old.Write(peer + PeerPid, (ulong)exited.Id);
        old.Write(old.Region(RegionRings) + (old.U64At((ulong)SbRingBytes) & uint.MaxValue) + RingClaim, 0x1234_5678);

        CliAssert.Succeeds(StargateProcess.Run("zone", "migrate", old.Path, fresh.Path));
    }

    public static TheoryData<string[], string> BadCommandLines => new()
    {
        { ["zone", "migrate", "OLD"], "'new'" },
        { ["zone", "migrate", "OLD", "NEW", "--size", "12X"], "'12X'" },
        { ["zone", "migrate", "OLD", "NEW", "--size", "10M"], "power of two" },
        { ["zone", "migrate", "OLD", "NEW", "--group", "no-such-group-stargate"], "no such group" },
        { ["zone", "migrate", "OLD", "NEW", "extra"], "'extra'" },
        { ["zone", "migrate", "OLD", "NEW", "--forse"], "--forse" },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public void Migrate_WhenTheCommandLineIsWrong_ExitsWithUsage(string[] args, string mention)
    {
        using var old = new Format1Fixture();
        using var fresh = new TempZone(format: false);
        string before = old.Hash();

        var r = StargateProcess.Run([.. args.Select(a => a switch { "OLD" => old.Path, "NEW" => fresh.Path, _ => a })]);

        CliAssert.FailsWithOneLine(r, 2, mention);
        Assert.False(File.Exists(fresh.Path));
        Assert.Equal(before, old.Hash());
    }

    private static string[] Corrupt(Format1Fixture old, ulong offset, ulong value, params string[] mentions)
    {
        old.Write(offset, value, offset == SbCrc ? 4 : 8);
        return mentions;
    }

    private static IEnumerable<string> Paths(Zone zone, ulong dir, string prefix)
    {
        yield return prefix;
        foreach (var entry in zone.Names.ReadDirectory(dir))
        {
            string path = prefix.Length == 0 ? entry.Name : $"{prefix}/{entry.Name}";
            if (entry.Type == SgzAbi.DtDir)
            {
                foreach (string inner in Paths(zone, entry.Ino, path))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return path;
            }
        }
    }
}
