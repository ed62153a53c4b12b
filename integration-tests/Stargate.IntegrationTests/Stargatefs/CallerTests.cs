using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// The caller's identity reaches the host apart from a chown's new owner, and POSIX holds
/// for it (docs/requests.md "What the host checks"); a guest attached through a read-only
/// socket reads but changes nothing (docs/security.md "Export policy"). One service with a
/// read-write and a read-only socket, a guest on each, so the kernel boots twice per run.
/// </summary>
public sealed class CallerTests(ITestOutputHelper output)
{
    private const string AsUser = "sgfstest as 1000 1000";

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void NonRootCallers_FollowPosix_AndAReadOnlySocketsGuest_ReadsButCannotCreate(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output, readOnlySocket: true);
        var a = served.Guests[0];
        var reader = served.AddGuest(readOnly: true);
        a.Exec("mkdir /mnt/d && chmod 777 /mnt/d");

        // A user's chown of its own file to another uid: EPERM, and the owner stays.
        a.Exec($"{AsUser} sh -c 'echo mine > /mnt/d/mine'");
        a.Check(a.Fails($"{AsUser} sgfstest chown /mnt/d/mine 2000 1000") == "EPERM", "uid 1000 may not give its file to uid 2000");
        a.Check(a.Exec("stat -c uid=%u /mnt/d/mine")["uid"] == "1000", "the file is still uid 1000's");

        // A write by someone other than the owner drops setuid and setgid.
        a.Exec("echo root > /mnt/d/suid && chmod 6777 /mnt/d/suid");
        a.Check(a.Exec("stat -c mode=%a /mnt/d/suid")["mode"] == "6777", "root's file is 06777 before");
        a.Exec($"{AsUser} sh -c 'echo user >> /mnt/d/suid'");
        a.Check(a.Exec("stat -c mode=%a /mnt/d/suid")["mode"] == "777", "uid 1000's write dropped setuid and setgid");
        reader.Check(reader.Exec("stat -c mode=%a /mnt/d/suid")["mode"] == "777", "the other guest sees the bits gone");

        // ftruncate through a file opened for writing needs no write permission, even at mode 0.
        a.Exec($"{AsUser} sh -c 'echo hello > /mnt/d/t'");
        var cut = a.Exec($"{AsUser} sgfstest ftruncate /mnt/d/t 2 0");
        a.Check(cut["size"] == "2" && cut["mode"] == "0", $"uid 1000 truncated its mode-0 file through its O_WRONLY fd: {cut.Text}");

        // The read-only socket's guest reads what the other wrote, cannot mount read-write, and cannot create.
        reader.Check(reader.Exec("cat /mnt/d/mine").Text == "mine", "the read-only guest reads the file");
        reader.Check(reader.MountFails("0", "/rw") == "EROFS", "a read-write mount of the read-only export is refused");
        reader.Check(reader.Fails("sgfstest lockappend /mnt/d/new 1 t") == "EROFS", "the read-only guest cannot create a file");
        a.Check(a.Exec("ls /mnt/d").Lines.SequenceEqual(["mine", "suid", "t"]), "nothing was created");

        a.Exec("rm -r /mnt/d");
        served.Finish();
    }
}
