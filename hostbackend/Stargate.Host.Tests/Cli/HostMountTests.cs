using System.Diagnostics;
using Stargate.Host.Tests.Support;
using Stargate.Testing;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// `stargate mount`: a zone mounted on the host through FUSE behaves as tmpfs for every POSIX
/// program (the same programs print the same lines on both), for root and for an ordinary
/// user; it mounts with or without a running service (and then through it); bad mount points
/// get one line; and a killed mount process leaves a clean zone and a mount point that
/// fusermount3 -u clears.
/// </summary>
public class HostMountTests
{
    [SkippableFact]
    public void Mount_WithoutService_BehavesAsTmpfs_ForRoot()
    {
        Skip.If(FuseMounts.Missing is not null, FuseMounts.Missing);
        using var zone = new TempZone(128UL << 20);
        using var tmpfs = new TmpfsDirectory();
        string expected = RunPosix(PosixScript.Root, tmpfs.Path);
        using (var mount = StandaloneMount.Start(zone))
        {
            string got = RunPosix(PosixScript.Root, mount.Path);
            Assert.Equal(expected, got);
            Assert.Contains("read b'hello world'", got, StringComparison.Ordinal);
            Assert.Contains("unlinked but open b'still'", got, StringComparison.Ordinal);
            Assert.Contains("long symlink 4000", got, StringComparison.Ordinal);
            mount.Unmount();
        }

        Assert.Equal("Data\0", System.Text.Encoding.UTF8.GetString(ZoneContent.Read(zone.Path, "/f")[..5]));
        CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));
    }

    [SkippableFact]
    public void Mount_AllowOther_BehavesAsTmpfs_ForAnOrdinaryUser()
    {
        Skip.If(FuseMounts.Missing is not null, FuseMounts.Missing);
        Skip.If(OtherUser.Missing is not null, OtherUser.Missing);
        using var zone = new TempZone(64UL << 20);
        using var tmpfs = new TmpfsDirectory();
        RunPosix(PosixScript.Prepare, tmpfs.Path);
        string expected = Nobody(tmpfs.Path);
        using var mount = StandaloneMount.Start(zone, "-o", "allow_other");
        RunPosix(PosixScript.Prepare, mount.Path);
        string got = Nobody(mount.Path);
        Assert.Equal(expected, got);
        Assert.Contains("unlink root's file in a sticky dir EPERM", got, StringComparison.Ordinal);
        Assert.Contains("a write drops setuid 0o100755", got, StringComparison.Ordinal);
        mount.Unmount();
        CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));
    }

    [SkippableFact]
    public void Mount_WhileServeRuns_IsServedByTheService_AndServeMountsToo()
    {
        Skip.If(FuseMounts.Missing is not null, FuseMounts.Missing);
        using var zone = new TempZone(64UL << 20);
        string local = zone.Scratch("local");
        File.WriteAllText(local, "put by the CLI");
        string first = FuseMounts.NewMountPoint();
        string second = FuseMounts.NewMountPoint();
        try
        {
            using (var serve = new BackgroundStargate("serve", zone.Path, "--socket", zone.Scratch("sock"), "--mount", first))
            {
                zone.Scratch("sock.ctl");
                zone.Scratch("serve");
                serve.WaitForStderr($"mounted on {first}");
                File.WriteAllText(Path.Combine(first, "a"), "through serve's mount");
                Assert.Equal("through serve's mount", System.Text.Encoding.UTF8.GetString(ZoneContent.Read(zone.Path, "/a")));

                // `stargate mount` while serve holds the zone: serve mounts, the command returns.
                CliAssert.Succeeds(StargateProcess.Run("mount", zone.Path, second));
                Assert.True(FuseMounts.IsMounted(second));
                serve.WaitForStderr($"mounted {zone.Path} on {second}");
                Assert.Equal("through serve's mount", File.ReadAllText(Path.Combine(second, "a")));
                CliAssert.Succeeds(StargateProcess.Run("put", zone.Path, local, "/b"));
                Assert.Equal("put by the CLI", File.ReadAllText(Path.Combine(second, "b")));
                File.Move(Path.Combine(second, "b"), Path.Combine(first, "c"));
                Assert.Equal(["a", "c"], CliAssert.Lines(CliAssert.Succeeds(StargateProcess.Run("ls", zone.Path, "/"))));
                FuseMounts.Unmount(second);
                Assert.True(FuseMounts.IsMounted(first), "serve's own mount stays when another is unmounted");

                serve.Terminate();
                Assert.Equal(0, serve.WaitForExit());
            }

            Assert.False(FuseMounts.IsMounted(first), "serve unmounts its mounts when it stops");
            CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));
        }
        finally
        {
            FuseMounts.Remove(first);
            FuseMounts.Remove(second);
        }
    }

    [SkippableFact]
    public void Mount_BadMountPointsAndOptions_OneLineEach()
    {
        Skip.If(FuseMounts.Missing is not null, FuseMounts.Missing);
        using var zone = new TempZone(16UL << 20);
        string file = zone.Scratch("plain-file");
        File.WriteAllText(file, "x");
        string full = FuseMounts.NewMountPoint();
        File.WriteAllText(Path.Combine(full, "something"), "x");
        string empty = FuseMounts.NewMountPoint();
        try
        {
            CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Path, zone.Scratch("missing-dir")), 1, "does not exist");
            CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Path, file), 1, "is not a directory");
            CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Path, full), 1, "is not empty");
            CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Path, full, "-o", "exec"), 2, "-o exec", "unknown mount option");
            CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Scratch("no-zone"), empty), 1, "no-zone");

            // A machine (or container) without /dev/fuse: a mount namespace whose /dev is an
            // empty tmpfs but for /dev/shm, where the zone is.
            string dotnet = Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet";
            const string hideDev = "keep=$(mktemp -d) && mount --bind /dev/shm \"$keep\" && mount -t tmpfs none /dev && mkdir /dev/shm"
                + " && mount --move \"$keep\" /dev/shm && exec \"$0\" \"$@\"";
            var noFuse = StargateProcess.RunProgram("unshare", "-m", "sh", "-c", hideDev,
                dotnet, Path.Combine(AppContext.BaseDirectory, "stargate.dll"), "mount", zone.Path, empty);
            CliAssert.FailsWithOneLine(noFuse, 1, "/dev/fuse is missing", "modprobe fuse");

            using var mount = StandaloneMount.Start(zone);
            CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Path, mount.Path), 1, "already a mount point", "fusermount3 -u");

            // The zone has its writer (the first mount), which is no serve: refused, naming it.
            CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Path, empty), 1, "stargate mount");
            mount.Unmount();
        }
        finally
        {
            File.Delete(Path.Combine(full, "something"));
            FuseMounts.Remove(full);
            FuseMounts.Remove(empty);
        }
    }

    [SkippableFact]
    public void KilledMount_WithWritesInFlight_LeavesACleanZone_AndAMountPointFusermountClears()
    {
        Skip.If(FuseMounts.Missing is not null, FuseMounts.Missing);
        using var zone = new TempZone(64UL << 20);
        using var mount = StandaloneMount.Start(zone);
        File.WriteAllText(Path.Combine(mount.Path, "lk"), string.Empty);
        using var holder = Process.Start("flock", ["-o", Path.Combine(mount.Path, "lk"), "sleep", "60"])!;
        Thread.Sleep(300);
        Assert.Equal(9, ProcessRunner.Run("flock", ["-n", "-E", "9", Path.Combine(mount.Path, "lk"), "true"]).ExitCode);
        using var writer = Process.Start(new ProcessStartInfo("sh", ["-c", $"i=0; while :; do i=$((i+1)); echo $i > '{mount.Path}'/f$((i % 50)) || exit 0; mv '{mount.Path}'/f$((i % 50)) '{mount.Path}'/g$((i % 7)) || exit 0; done"])
        {
            RedirectStandardError = true,
        })!;
        Thread.Sleep(1500);
        mount.Kill();
        Assert.True(writer.WaitForExit(30_000), "the writer ends once the mount is gone");

        Assert.True(FuseMounts.IsMounted(mount.Path), "a killed FUSE process leaves its mount behind");
        CliAssert.FailsWithOneLine(StargateProcess.Run("mount", zone.Path, mount.Path), 1, "fusermount3 -u");
        CliAssert.Succeeds(StargateProcess.Run("zone", "fsck", zone.Path));

        // A process with a file open on the dead mount keeps it busy (fusermount3 -u -z would
        // detach it anyway); its lock stays in the zone's table, for the next writer to drop.
        holder.Kill();
        holder.WaitForExit();
        FuseMounts.Unmount(mount.Path);
        using var again = StandaloneMount.StartOn(zone, mount.Path);
        Assert.NotEmpty(Directory.GetFiles(again.Path));
        var taken = ProcessRunner.Run("flock", ["-n", "-E", "9", Path.Combine(again.Path, "lk"), "true"]);
        Assert.True(taken.ExitCode == 0, $"the next mount dropped the killed mount's flock: {taken}");
        again.Unmount();
    }

    /// <summary>A fresh directory on the host's tmpfs (/dev/shm): the reference the mount is compared with.</summary>
    private sealed class TmpfsDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateDirectory(System.IO.Path.Combine("/dev/shm", $"stargate-posix-{Guid.NewGuid():N}")).FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    private static string RunPosix(string script, string dir) =>
        ProcessRunner.RunChecked("/usr/bin/python3", ["-c", script, dir], TimeSpan.FromSeconds(60)).Stdout;

    private static string Nobody(string dir)
    {
        var result = OtherUser.Run(PosixScript.Unprivileged, [dir]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
    }

    /// <summary>`stargate mount ZONE DIR` in the foreground, once mounted; Dispose ends it and removes the directory.</summary>
    private sealed class StandaloneMount : IDisposable
    {
        private readonly BackgroundStargate _process;

        private StandaloneMount(BackgroundStargate process, string path)
        {
            _process = process;
            Path = path;
        }

        public string Path { get; }

        public static StandaloneMount Start(TempZone zone, params string[] options) => StartOn(zone, FuseMounts.NewMountPoint(), options);

        public static StandaloneMount StartOn(TempZone zone, string dir, params string[] options)
        {
            var process = new BackgroundStargate(["mount", zone.Path, dir, .. options]);
            process.WaitForStderr("mounted on");
            return new StandaloneMount(process, dir);
        }

        /// <summary>fusermount3 -u: the mount process then exits 0.</summary>
        public void Unmount()
        {
            FuseMounts.Unmount(Path);
            Assert.Equal(0, _process.WaitForExit());
        }

        public void Kill() => _process.Kill();

        public void Dispose()
        {
            _process.Dispose();
            FuseMounts.Remove(Path);
        }
    }
}
