using Stargate.Testing;
using System.IO.Compression;

namespace Stargate.IntegrationTests.Guest;

/// <summary>The harness's own pieces that need no QEMU: the initramfs and the guest tools.</summary>
public sealed class InitramfsTests
{
    [SkippableFact]
    public void BaseArchive_IsNewcThatCpioLists_WithInitBusyboxAndTheTools()
    {
        GuestEnvironment.RequireOrSkip();
        Skip.If(ProcessRunner.Which("cpio") is null, "cpio is not installed (apt-get install cpio)");
        string path = Path.Combine(RepoPaths.Artifacts("guest-initramfs"), $"check-{Environment.ProcessId}.cpio");
        try
        {
            File.WriteAllBytes(path, Initramfs.BuildBaseArchive());
            var listing = ProcessRunner.RunChecked("sh", ["-c", $"cpio -t -v --quiet < '{path}'"]);
            string[] lines = listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(lines, l => l.StartsWith("-rwxr-xr-x", StringComparison.Ordinal) && l.EndsWith(" init", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("-rwxr-xr-x", StringComparison.Ordinal) && l.EndsWith(" bin/busybox", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("-rwxr-xr-x", StringComparison.Ordinal) && l.EndsWith(" bin/sgtool", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("-rwxr-xr-x", StringComparison.Ordinal) && l.EndsWith(" bin/sgfstest", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("lrwxrwxrwx", StringComparison.Ordinal) && l.EndsWith(" bin/sh -> busybox", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("crw-------", StringComparison.Ordinal) && l.EndsWith(" dev/console", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SkippableFact]
    public void GuestInitrd_IsTheSameBytesEveryTime_AndEndsWithTheScriptArchive()
    {
        GuestEnvironment.RequireOrSkip();
        string first = Path.Combine(RepoPaths.Artifacts("guest-initramfs"), $"check-{Environment.ProcessId}-1.gz");
        string second = Path.Combine(RepoPaths.Artifacts("guest-initramfs"), $"check-{Environment.ProcessId}-2.gz");
        try
        {
            Initramfs.WriteForGuest(first, "sg_say hello=1\n");
            Initramfs.WriteForGuest(second, "sg_say hello=1\n");
            byte[] bytes = File.ReadAllBytes(first);
            Assert.Equal(bytes, File.ReadAllBytes(second));
            Assert.Equal(Initramfs.Base, bytes[..Initramfs.Base.Length]);

            // The second gzip member is a newc archive holding the script.
            using var gzip = new GZipStream(new MemoryStream(bytes[Initramfs.Base.Length..]), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            string archive = reader.ReadToEnd();
            Assert.StartsWith("070701", archive, StringComparison.Ordinal);
            Assert.Contains("stargate/test.sh\0", archive, StringComparison.Ordinal);
            Assert.Contains("sg_say hello=1", archive, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(first);
            File.Delete(second);
        }
    }

    [SkippableFact]
    public void Sgtool_WithoutArguments_PrintsUsageAndExits2()
    {
        GuestEnvironment.RequireOrSkip();
        var result = ProcessRunner.Run(GuestTools.Sgtool, []);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("usage: sgtool list", result.Stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Sgtool_OnADeviceThatIsNotIvshmem_FailsWithFileLineAndCondition()
    {
        GuestEnvironment.RequireOrSkip();
        var result = ProcessRunner.Run(GuestTools.Sgtool, ["info", "no-such-device"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"^sgtool: error: sgtool\.c:[0-9]+: .+: No such file or directory\n$", result.Stderr);
    }
}
