using System.Diagnostics;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Stargate.Interop.Native;
using Stargate.Testing;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// The zone mounted on the host (`stargate mount`, forwarded to the running service) and in a
/// guest at once: each side's create, write, rename, chmod and delete is what the other sees at
/// its very next read, stat or listing, with no wait and no stale data; and flock and fcntl
/// locks exclude each other across the two. Then a host program's ZoneFileMapping through serve
/// against the guest's stores, allocation and truncate.
/// </summary>
public sealed class HostMountTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Full)]
    public void GuestAndHostMount_SeeEachOthersChanges_AtOnce(string kernelId)
    {
        Skip.If(HostMount.Missing is not null, HostMount.Missing);
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output);
        var guest = served.Guests[0];
        using var mount = HostMount.Through(served);
        string dir = mount.Path;

        // The guest changes; the host sees each change at its next access.
        guest.Exec("echo one > /mnt/a && mkdir /mnt/d && echo two > /mnt/d/b");
        guest.Check(File.ReadAllText(Path.Combine(dir, "a")) == "one\n", "the host reads the guest's new file");
        guest.Check(Directory.GetFileSystemEntries(Path.Combine(dir, "d")).Select(Path.GetFileName).SequenceEqual(["b"]), "the host lists the guest's new directory");
        guest.Exec("echo three3 > /mnt/a");
        guest.Check(File.ReadAllText(Path.Combine(dir, "a")) == "three3\n", "the host reads the guest's rewrite, not its own earlier read");
        guest.Check(new FileInfo(Path.Combine(dir, "a")).Length == 7, "the host's stat has the guest's new size");
        guest.Exec("mv /mnt/a /mnt/d/c && chmod 600 /mnt/d/c && rm /mnt/d/b");
        guest.Check(!File.Exists(Path.Combine(dir, "a")), "the host no longer finds the renamed name");
        guest.Check(File.ReadAllText(Path.Combine(dir, "d", "c")) == "three3\n", "the host reads the file under its new name");
        guest.Check(Libc.Stat(Path.Combine(dir, "d", "c"), out var status) == 0 && status.Permissions == 0x180, "the host sees the guest's chmod (0600)");
        guest.Check(!File.Exists(Path.Combine(dir, "d", "b")), "the host no longer finds the deleted file");

        // The host changes through the mount; the guest sees each change at once.
        File.WriteAllText(Path.Combine(dir, "h"), "from the host\n");
        guest.Check(guest.Exec("cat /mnt/h").Lines.SequenceEqual(["from the host"]), "the guest reads the host's new file");
        File.AppendAllText(Path.Combine(dir, "h"), "more\n");
        guest.Check(guest.Exec("cat /mnt/h").Lines.SequenceEqual(["from the host", "more"]), "the guest reads the host's append");
        File.Move(Path.Combine(dir, "h"), Path.Combine(dir, "d", "h2"));
        guest.Check(guest.Exec("ls /mnt/d").Lines.SequenceEqual(["c", "h2"]), "the guest lists the host's rename");
        Assert.Equal(0, Libc.Chmod(Path.Combine(dir, "d", "h2"), 0x100));
        guest.Check(guest.Exec("stat -c %a /mnt/d/h2").Lines.SequenceEqual(["400"]), "the guest sees the host's chmod");
        File.Delete(Path.Combine(dir, "d", "h2"));
        guest.Check(guest.TryExec("cat /mnt/d/h2").ExitCode != 0, "the guest no longer finds the file the host deleted");

        // Data written in place by the guest (no size change) is read fresh by the host.
        guest.Exec("printf AAAA > /mnt/p && printf BB | dd of=/mnt/p bs=1 seek=1 conv=notrunc 2>/dev/null");
        guest.Check(File.ReadAllText(Path.Combine(dir, "p")) == "ABBA", "the host reads the guest's in-place write");
        using (var f = new FileStream(Path.Combine(dir, "p"), FileMode.Open, FileAccess.Write))
        {
            f.Position = 3;
            f.WriteByte((byte)'C');
        }

        guest.Check(guest.Exec("cat /mnt/p; echo").Lines.SequenceEqual(["ABBC"]), "the guest reads the host's in-place write");

        // flock between a host process on the mount and the guest: one lock table.
        guest.Exec(": > /mnt/lk");
        string held = guest.Background("sgfstest lockhold /mnt/lk flock", "locked=1");
        var refused = ProcessRunner.Run("flock", ["-n", "-E", "9", Path.Combine(dir, "lk"), "true"]);
        guest.Check(refused.ExitCode == 9, $"a host process cannot flock what the guest holds: {refused}");
        guest.Exec($"kill $(cat /tmp/{held}.pid)");
        guest.Join(held);
        var taken = ProcessRunner.Run("flock", ["-n", "-E", "9", Path.Combine(dir, "lk"), "true"]);
        guest.Check(taken.ExitCode == 0, $"the host takes the lock once the guest let go: {taken}");
        using (var holder = Process.Start("flock", ["-o", Path.Combine(dir, "lk"), "sleep", "60"]))
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (guest.TryExec("sgfstest trylock /mnt/lk flock").ExitCode == 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }

            guest.Check(guest.Fails("sgfstest trylock /mnt/lk flock") is "EWOULDBLOCK" or "EAGAIN", "the guest cannot flock what a host process on the mount holds");
            holder.Kill();
            holder.WaitForExit();
        }

        guest.Check(guest.Exec("sgfstest trylock /mnt/lk flock")["locked"] == "1", "the guest takes the lock once the host process is gone");

        // fcntl (POSIX record) locks too: the guest's lock refuses a host process's F_SETLK on the mount.
        string posix = guest.Background("sgfstest lockhold /mnt/lk posix", "locked=1");
        const string TryLock = "import fcntl, os, sys\ntry:\n    fcntl.lockf(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('locked')\nexcept OSError as e:\n    print('refused', e.errno)";
        var hostTry = ProcessRunner.Run("python3", ["-c", TryLock, Path.Combine(dir, "lk")]);
        guest.Check(hostTry.Stdout.Trim() is "refused 11" or "refused 13", $"a host process cannot fcntl-lock what the guest holds: {hostTry}");
        guest.Exec($"kill $(cat /tmp/{posix}.pid)");
        guest.Join(posix);
        hostTry = ProcessRunner.Run("python3", ["-c", TryLock, Path.Combine(dir, "lk")]);
        guest.Check(hostTry.Stdout.Trim() == "locked", $"the host process takes the fcntl lock once the guest let go: {hostTry}");

        mount.Unmount();
        MappedThroughServe(served, guest);
        served.Finish();
    }

    /// <summary>
    /// A host program maps a file with ZoneFileMapping through the running serve (this test
    /// process opens the zone read-only): the guest's stores, its write past the end and its
    /// truncate show in the mapping, and the host's stores in the guest's reads.
    /// </summary>
    private static unsafe void MappedThroughServe(ServedZone served, StargatefsGuest guest)
    {
        guest.Exec("printf 'guest data' > /mnt/m");
        using var zone = Stargate.Host.Zones.Zone.Open(served.Zone.Path, Stargate.Host.Zones.ZoneAccess.ReadOnly, "host mapping test");
        using var map = Stargate.Host.Zones.ZoneFileMapping.Map(zone, "/m", writable: true, capacity: 4 << 20);
        byte* at = (byte*)map.Address;
        guest.Check(map.Span(0, 10).SequenceEqual("guest data"u8), "the host mapping reads the guest's file");

        "HOST"u8.CopyTo(map.Span(0, 4));
        guest.Check(guest.Exec("cat /mnt/m; echo").Lines.SequenceEqual(["HOSTt data"]), "the guest reads the host's stores through the mapping");
        guest.Exec("printf G | dd of=/mnt/m bs=1 seek=5 conv=notrunc 2>/dev/null");
        guest.Check(at[5] == (byte)'G', "the host mapping sees the guest's store at once");

        // Past the end, 1 MiB on: the guest's module asks serve for the pages; serve sends the
        // new layout, and the mapping maps them.
        guest.Exec("printf tail | dd of=/mnt/m bs=1 seek=1048576 conv=notrunc 2>/dev/null");
        Eventually(() => new ReadOnlySpan<byte>(at + (1 << 20), 4).SequenceEqual("tail"u8), "the host mapping maps the pages the guest's write allocated");
        guest.Exec(": > /mnt/m");
        Eventually(() => at[0] == 0 && at[(1 << 20) + 1] == 0, "the guest's truncate takes the pages off the host mapping");
    }

    private static void Eventually(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"not within 20 s: {what}");
            Thread.Sleep(20);
        }
    }
}
