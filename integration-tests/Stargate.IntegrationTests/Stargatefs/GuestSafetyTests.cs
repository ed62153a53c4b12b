using System.Buffers.Binary;
using System.Globalization;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// A guest kernel cannot be turned against its users by what other machines put in the zone or
/// by a host service that stops answering (docs/guest-module.md, "Mount options" and "Bounds and
/// timeouts"): setuid files give no privilege and device inodes do not open unless the mount
/// says suid and dev; a seqcount held odd and a stalled service give EIO in a bounded time, and
/// a process waiting on them dies at once on SIGKILL.
/// </summary>
public sealed class GuestSafetyTests(ITestOutputHelper output)
{
    private const int Sigcont = 18;
    private const int Sigstop = 19;
    private const int NoPrivilegeUid = 1000;

    // The module's bounds (stargatefs.h): STARGATEFS_SEQ_WAIT_MS and STARGATEFS_RPC_TIMEOUT_MS, in centiseconds.
    private const int SeqWaitCs = 100;
    private const int RpcTimeoutCs = 1000;

    // What the guest may take beyond a bound (1 vCPU under TCG, a busy machine), and a SIGKILL at most.
    private const int SlackCs = 300;
    private const int KillCs = 200;

    // Runs COMMAND in the guest and prints rc= and cs= (its time in centiseconds, from /proc/uptime).
    private static string Timed(string command) =>
        "t0=$(cut -d' ' -f1 /proc/uptime | tr -d .); " + command + "; rc=$?; " +
        "t1=$(cut -d' ' -f1 /proc/uptime | tr -d .); echo rc=$rc cs=$((t1 - t0))";

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void SetuidFilesAndDeviceInodes_GiveNothingUnlessMountedSuidAndDev(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output, zone => ZoneFiles.Put(zone, "/null", []));
        var guest = served.Guests[0];

        // Another machine's root (here the host, writing the zone) turns /null into /dev/null's device inode (1:3).
        ulong nullInode = ZoneTables.InodeOffset(served.Zone, ZoneFiles.Ino(served.Zone, "/null"));
        byte[] regular = RewriteInode(served.Zone, nullInode, inode =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(inode, SgzAbi.SIfchr | 0x1b6);
            BinaryPrimitives.WriteUInt64LittleEndian(inode.AsSpan(64), (1 << 8) | 3);
        });

        // A default mount: nosuid and nodev, said in /proc/mounts.
        var options = MountOptions(guest);
        guest.Check(options.Contains("nosuid") && options.Contains("nodev") && !options.Contains("allow_suid") && !options.Contains("allow_dev"),
            $"/proc/mounts shows a default mount nosuid and nodev: {string.Join(',', options)}");

        // Root puts a setuid-root program in the zone; its bits are kept and shown.
        guest.Exec("cp /bin/sgfstest /mnt/whoami && chmod 4755 /mnt/whoami");
        string mode = guest.Exec("stat -c %a:%u /mnt/whoami").Text.Trim();
        guest.Check(mode == "4755:0", $"stat shows the zone's mode and owner of the setuid program: {mode}");
        var cred = guest.Exec($"sgfstest as {NoPrivilegeUid} {NoPrivilegeUid} /mnt/whoami cred");
        guest.Check(cred["uid"] == $"{NoPrivilegeUid}" && cred["euid"] == $"{NoPrivilegeUid}",
            $"a setuid-root program run by uid {NoPrivilegeUid} on a default mount keeps uid {NoPrivilegeUid}: {cred.Text}");
        string opened = guest.Fails("sgfstest sum /mnt/null");
        guest.Check(opened == "EACCES", $"a device inode on a default mount does not open (EACCES): {opened}");

        // A second mount of the same device cannot ask for other options than its shared superblock has.
        string second = guest.Fails("mkdir -p /mnt2 && sgfstest mount 0 /mnt2 suid,dev");
        guest.Check(second == "EINVAL", $"a second mount asking for suid,dev on a nosuid,nodev superblock fails with EINVAL: {second}");

        // mount -o remount,suid,dev: normal behaviour.
        guest.Exec("sgfstest mount 0 /mnt remount,suid,dev");
        options = MountOptions(guest);
        guest.Check(options.Contains("allow_suid") && options.Contains("allow_dev") && !options.Contains("nosuid") && !options.Contains("nodev"),
            $"/proc/mounts shows allow_suid and allow_dev after the remount: {string.Join(',', options)}");
        cred = guest.Exec($"sgfstest as {NoPrivilegeUid} {NoPrivilegeUid} /mnt/whoami cred");
        guest.Check(cred["uid"] == $"{NoPrivilegeUid}" && cred["euid"] == "0",
            $"on a suid mount the setuid-root program runs with euid 0: {cred.Text}");
        var device = guest.Exec("sgfstest sum /mnt/null");
        guest.Check(device["size"] == "0", $"on a dev mount the device inode opens (it is /dev/null): {device.Text}");

        // And back, with the options /proc/mounts gave fed to a remount as mount(8) may do (device=
        // included), then nosuid: suid goes away again, for a program already cached.
        string shown = string.Join(',', MountOptions(guest).Where(o => o is not ("rw" or "relatime")));
        guest.Exec($"sgfstest mount 0 /mnt remount,{shown}");
        guest.Check(MountOptions(guest).Contains("allow_suid"), "a remount with the options /proc/mounts shows keeps them");
        guest.Exec("sgfstest mount 0 /mnt remount,nosuid,nodev");
        cred = guest.Exec($"sgfstest as {NoPrivilegeUid} {NoPrivilegeUid} /mnt/whoami cred");
        guest.Check(cred["euid"] == $"{NoPrivilegeUid}", $"after remount,nosuid the program gives no privilege again: {cred.Text}");

        WriteHostHalf(served.Zone, nullInode, regular);
        served.Host("rm", "/null");
        guest.Exec("rm /mnt/whoami");
        served.Finish();
    }

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void HeldSeqcountAndStalledService_GiveEioInBoundedTime_AndSigkillEndsAWaiterAtOnce(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output, zone => ZoneFiles.Put(zone, "/held", [1, 2, 3]));
        var guest = served.Guests[0];

        // Another machine keeps the inode's seqcount odd for ever: a reader gives up with EIO within its bound.
        ulong seqWord = ZoneTables.InodeOffset(served.Zone, ZoneFiles.Ino(served.Zone, "/held")) + 128;
        ulong before = served.Zone.ReadU64(seqWord);
        served.Zone.WriteU64(seqWord, before | 1);
        var held = guest.TryExec(Timed("sgfstest sum /mnt/held"));
        guest.Check(held.Find("error") == "EIO" && int.Parse(held["cs"], CultureInfo.InvariantCulture) <= SeqWaitCs + SlackCs,
            $"a read of an inode whose seqcount stays odd fails with EIO within {SeqWaitCs + SlackCs} cs: {held.Text}");
        guest.Check(guest.KernelLog("stays mid-change").Count > 0, "the kernel log says which inode stays mid-change");
        served.Zone.WriteU64(seqWord, before);
        guest.Exec("sgfstest sum /mnt/held");

        guest.Exec("mkdir /mnt/before");
        // Freeing /held's page posts a grace epoch, so the next mount's first run acknowledges it.
        guest.Exec(": > /mnt/held");
        Libc.Kill(served.Server.ProcessId, Sigstop);
        try
        {
            // A request waits on the stalled service; SIGKILL ends it at once.
            var killed = guest.Exec(
                "mkdir /mnt/blocked & p=$!; sleep 1; kill -0 $p && echo waiting=1; " +
                Timed("kill -9 $p; wait $p"));
            guest.Check(killed["waiting"] == "1" && int.Parse(killed["cs"], CultureInfo.InvariantCulture) <= KillCs,
                $"a process waiting on a stalled service dies within {KillCs} cs of SIGKILL: {killed.Text}");

            // A request to the stalled service fails with EIO after the module's timeout.
            var stalled = guest.TryExec(Timed("mkdir /mnt/stalled 2>/tmp/stalled.err") + "; cat /tmp/stalled.err");
            int cs = int.Parse(stalled["cs"], CultureInfo.InvariantCulture);
            guest.Check(stalled["rc"] != "0" && stalled.Text.Contains("Input/output error", StringComparison.Ordinal) &&
                cs >= RpcTimeoutCs - 50 && cs <= RpcTimeoutCs + SlackCs,
                $"mkdir on a stalled service fails with EIO after the {RpcTimeoutCs} cs timeout: {stalled.Text}");
            guest.Check(guest.KernelLog("got no reply").Count > 0, "the kernel log names the request that got no reply");

            // A new mount's grace work waits on the stalled service for its acknowledgement; an
            // unmount ends that wait at once instead of sitting out the request's timeout.
            int abandoned = guest.KernelLog("acknowledgement of epoch").Count;
            guest.Exec($"umount {StargatefsGuest.Mount} && sgfstest mount 0 {StargatefsGuest.Mount} && sleep 1");
            var unmount = guest.Exec(Timed($"umount {StargatefsGuest.Mount}"));
            guest.Check(unmount["rc"] == "0" && int.Parse(unmount["cs"], CultureInfo.InvariantCulture) <= KillCs,
                $"an unmount with an acknowledgement waiting on the stalled service takes at most {KillCs} cs: {unmount.Text}");
            guest.Check(guest.KernelLog("acknowledgement of epoch").Count > abandoned, "the acknowledgement it ended was waiting (the kernel log says it failed)");
            guest.Exec($"sgfstest mount 0 {StargatefsGuest.Mount}");
        }
        finally
        {
            Libc.Kill(served.Server.ProcessId, Sigcont);
        }

        // The service answers again: what was abandoned is carried out, and new requests work.
        guest.Exec("mkdir /mnt/after && echo x > /mnt/after/f && rm -r /mnt/after");
        output.WriteLine($"after the stall: {guest.Exec("ls /mnt").Text.Replace('\n', ' ')}");
        guest.Exec("rm -rf /mnt/before /mnt/blocked /mnt/stalled");
        served.Finish();
    }

    /// <summary>The options /proc/mounts gives for /mnt.</summary>
    private static HashSet<string> MountOptions(StargatefsGuest guest)
    {
        string line = guest.Exec($"grep ' {StargatefsGuest.Mount} ' /proc/mounts").Lines[0];
        return [.. line.Split(' ')[3].Split(',')];
    }

    /// <summary>
    /// Changes the host half of the inode record at zone offset @at (bytes 0..127) by @change, with
    /// a crc that matches, as a hostile machine writing the zone would; returns the record as it was.
    /// </summary>
    private static byte[] RewriteInode(TestZone zone, ulong at, Action<byte[]> change)
    {
        byte[] old = ReadHostHalf(zone, at);
        byte[] record = (byte[])old.Clone();
        change(record);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan((int)ZoneTables.InodeCrcOffset), Crc32C.Compute(record.AsSpan(0, (int)ZoneTables.InodeCrcOffset)));
        WriteHostHalf(zone, at, record);
        return old;
    }

    private static byte[] ReadHostHalf(TestZone zone, ulong at)
    {
        var record = new byte[SgzAbi.InodeSize / 2];
        for (int i = 0; i < record.Length; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(i), zone.ReadU64(at + (ulong)i));
        }

        return record;
    }

    private static void WriteHostHalf(TestZone zone, ulong at, byte[] record)
    {
        for (int i = 0; i < record.Length; i += 8)
        {
            zone.WriteU64(at + (ulong)i, BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(i)));
        }
    }
}
