using System.Text;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Two guests and the host change one namespace: every create, write, append, truncate,
/// rename and delete made in one machine is seen by the others at once (no sleep, no remount),
/// and the zone is clean afterwards.
/// </summary>
public sealed class NamespaceTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void ChangesInOneMachine_AreSeenAtOnceByTheOthers(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output);
        var (a, b) = (served.Guests[0], served.Guests[1]);

        // Create and write in A; B and the host read it.
        a.Exec("mkdir /mnt/d && echo hello > /mnt/d/f");
        b.Check(b.Exec("cat /mnt/d/f").Text == "hello", "B reads A's new file");
        Check(served, "/d/f", "hello\n");

        // Append in B; A and the host see both lines.
        b.Exec("echo world >> /mnt/d/f");
        a.Check(a.Exec("cat /mnt/d/f").Text == "hello\nworld", "A reads B's append");
        Check(served, "/d/f", "hello\nworld\n");

        // A file that grows past the first 2 MiB chunk, written by A with dd.
        a.Exec("dd if=/dev/zero bs=1M count=5 2>/dev/null | tr '\\0' 'x' > /mnt/d/big");
        b.Check(b.Exec("stat -c size=%s /mnt/d/big")["size"] == "5242880", "B sees A's 5 MiB file whole");
        var bigSum = FileSum.Of(Enumerable.Repeat((byte)'x', 5 << 20).ToArray());
        b.AssertReads("/mnt/d/big", bigSum);

        // Truncate in A (shrink and grow); B and the host see the new size and zeros.
        a.Exec("truncate -s 3 /mnt/d/f && truncate -s 6 /mnt/d/f");
        b.Check(b.Exec("od -An -c /mnt/d/f").Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).SequenceEqual(["h", "e", "l", "\\0", "\\0", "\\0"]),
            "B reads 'hel' and three zeros after A's truncates");
        Check(served, "/d/f", "hel\0\0\0");

        // Rename in B; A's cached name is gone at once, the new one is there.
        a.Exec("ls /mnt/d/f >/dev/null"); // A has the old name in its dentry cache
        b.Exec("mv /mnt/d/f /mnt/d/g");
        a.Check(a.Fails("sgfstest sum /mnt/d/f") == "ENOENT", "A no longer finds the renamed file under its old name");
        a.Check(a.Exec("ls /mnt/d").Lines.SequenceEqual(["big", "g"]), "A lists B's rename");
        a.Check(a.Exec("ls -l /mnt/d/g | cut -c1").Text == "-", "the renamed file is a regular file in A");

        // The host changes the namespace while the service runs; both guests see it.
        string local = served.Zone.Path + ".hostfile";
        File.WriteAllText(local, "from the host\n");
        try
        {
            served.Host("put", local, "/d/h");
        }
        finally
        {
            File.Delete(local);
        }

        a.Check(a.Exec("cat /mnt/d/h").Text == "from the host", "A reads the host's new file");
        b.Check(b.Exec("ls /mnt/d").Lines.SequenceEqual(["big", "g", "h"]), "B lists the host's new file");
        served.Host("mv", "/d/h", "/d/h2");
        b.Check(b.Fails("sgfstest sum /mnt/d/h") == "ENOENT" && b.Exec("cat /mnt/d/h2").Text == "from the host", "B sees the host's rename");

        // A's own changes in a directory keep its cached names there (each reply says what the
        // directory's change counter became), but a change by B in between drops them.
        a.Exec("mkdir /mnt/own && for i in 1 2 3 4 5 6 7 8; do echo $i > /mnt/own/f$i; done");
        long finds = DirFinds(a);
        a.Exec("for i in 1 2 3 4 5 6 7 8; do cat /mnt/own/f$i; done >/dev/null && mv /mnt/own/f8 /mnt/own/g8 && rm /mnt/own/f7");
        a.Exec("for i in 1 2 3 4 5 6; do cat /mnt/own/f$i; done >/dev/null && cat /mnt/own/g8 >/dev/null");
        long searched = DirFinds(a) - finds;
        // The mv and rm look up their new name (g8) and nothing else.
        a.Check(searched <= 1, $"A searched the directory {searched} times for names its own changes kept");
        b.Exec("rm /mnt/own/f2 && echo new > /mnt/own/f2");
        a.Exec("echo 9 > /mnt/own/f9"); // A's own change, after B's: its reply does not follow on from A's
        a.Check(a.Exec("cat /mnt/own/f2").Text == "new", "A reads the f2 B made, not the one it had cached");

        // O_CREAT|O_EXCL of a name A never looked up goes straight to the host's create, with
        // no search of the directory first: EEXIST for B's file, which stays as B wrote it.
        b.Exec("echo b > /mnt/own/fromb");
        a.Check(a.Fails("sgfstest excl /mnt/own/fromb") == "EEXIST", "A's O_EXCL create of B's name: EEXIST");
        b.Check(b.Exec("cat /mnt/own/fromb").Text == "b", "B's file is as B wrote it after A's refused create");
        finds = DirFinds(a);
        a.Check(a.Exec("sgfstest excl /mnt/own/made")["made"] == "1", "A's O_EXCL create of a new name");
        a.Exec("echo x > /mnt/own/made && cat /mnt/own/made >/dev/null");
        a.Check(DirFinds(a) == finds, $"A searched the directory {DirFinds(a) - finds} times to make, write and read a new name");
        b.Check(b.Exec("cat /mnt/own/made").Text == "x", "B reads the file A made");
        a.Exec("rm -r /mnt/own");

        // Deletes: A removes, B and the host see it gone; chmod in B is seen by A.
        b.Exec("chmod 600 /mnt/d/g");
        a.Check(a.Exec("stat -c mode=%a /mnt/d/g")["mode"] == "600", "A sees B's chmod");
        a.Exec("rm /mnt/d/g /mnt/d/h2 /mnt/d/big && rmdir /mnt/d");
        b.Check(b.Exec("ls -A /mnt").Lines.Count == 0, "B lists an empty root after A's deletes");
        b.Check(b.Fails("sgfstest sum /mnt/d/big") == "ENOENT", "B no longer finds the deleted file");
        string hostRoot = served.Host("ls", "/");
        b.Check(hostRoot.Trim().Length == 0, $"the host lists an empty root, not '{hostRoot.Trim()}'");
        served.Finish();
    }

    /// <summary>How many names guest @g's module has searched for in a directory of the zone (sysfs stargatefs_dir_finds).</summary>
    private static long DirFinds(StargatefsGuest g) =>
        g.Exec("cat /sys/bus/pci/drivers/stargatefs/*/stargatefs_dir_finds").Lines.Sum(l => long.Parse(l, System.Globalization.CultureInfo.InvariantCulture));

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void SymlinksHardLinksAndFifos_MadeInOneGuest_WorkInTheOther(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output);
        var (a, b) = (served.Guests[0], served.Guests[1]);
        a.Exec("echo data > /mnt/file && ln -s file /mnt/sym && ln /mnt/file /mnt/hard && mkfifo /mnt/fifo");
        b.Check(b.Exec("readlink /mnt/sym").Text == "file", "B reads A's symlink");
        b.Check(b.Exec("cat /mnt/sym").Text == "data", "B follows A's symlink");
        b.Check(b.Exec("stat -c links=%h /mnt/hard")["links"] == "2", "B sees two links");
        b.Check(b.Exec("ls -l /mnt/fifo | cut -c1").Text == "p", "B sees A's fifo as a fifo");
        b.Exec("rm /mnt/file");
        a.Check(a.Exec("cat /mnt/hard").Text == "data", "A reads the data through the remaining link");
        a.Check(a.Exec("stat -c links=%h /mnt/hard")["links"] == "1", "A sees one link left");
        a.Exec("rm /mnt/hard /mnt/sym /mnt/fifo");
        served.Finish();
    }

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void UnlinkedWhileOpenInAnotherGuest_StaysReadableThere_UntilClosed(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output);
        var (a, b) = (served.Guests[0], served.Guests[1]);
        a.Exec("dd if=/dev/zero bs=1M count=3 2>/dev/null | tr '\\0' 'y' > /mnt/held");
        var expected = FileSum.Of(Enumerable.Repeat((byte)'y', 3 << 20).ToArray());
        long withFile = UsedBytes(served);

        // A holds the file open while B deletes it.
        string holder = a.Background("sh -c 'exec 3</mnt/held; echo held=1; exec sleep 600'", "held=1");
        b.Exec("rm /mnt/held");
        b.Check(b.Fails("sgfstest sum /mnt/held") == "ENOENT", "B no longer finds the file it deleted");
        a.Check(FileSum.Parse(a.Exec($"sgfstest sum /proc/$(cat /tmp/{holder}.pid)/fd/3")) == expected,
            "A still reads the deleted file through its open descriptor");
        long held = UsedBytes(served);
        a.Check(held >= withFile - (1 << 16), $"the deleted file's space is still held while A has it open ({held} bytes used, {withFile} with the file)");

        // The last close frees it.
        a.Exec($"kill $(cat /tmp/{holder}.pid)");
        a.Join(holder);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (UsedBytes(served) > held - (3 << 20) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
        }

        a.Check(UsedBytes(served) <= held - (3 << 20), $"the space comes back after the last close ({UsedBytes(served)} bytes used, {held} while held)");
        served.Finish();
    }

    /// <summary>Data bytes in use in the zone, from `stargate zone info --json` (a read-only open, fine while the service runs).</summary>
    private static long UsedBytes(ServedZone served)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(StargateCli.RunChecked("zone", "info", served.Zone.Path, "--json").Stdout);
        return doc.RootElement.GetProperty("data_bytes_used").GetInt64();
    }

    private static void Check(ServedZone served, string path, string expected)
    {
        byte[] got = ZoneFiles.Get(served.Zone, path);
        if (!got.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(expected)))
        {
            throw new InvalidOperationException($"the host reads {path} as '{Encoding.UTF8.GetString(got)}', expected '{expected}'");
        }
    }
}
