using System.Globalization;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// The guest harness fails loudly (a failed check in a guest script, a kernel panic) and boots
/// the kernel a test asks for, with a module in its initramfs.
/// </summary>
public sealed class QemuGuestTests(ITestOutputHelper output)
{
    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void GuestOnAChosenKernel_RunsThatRelease_WithTheModuleInLib_AndAZoneOf512MiB(string kernelId)
    {
        GuestEnvironment.RequireOrSkip();
        var kernel = KernelMatrix.Get(kernelId);
        string? release = kernel.InstalledRelease;
        Skip.If(release is null, $"kernel {kernelId}: no release matching {kernel.ReleasePattern} is installed ({kernel.InstallCommand})");
        Skip.IfNot(File.Exists(GuestKernel.ImagePath(release!)), $"kernel {kernelId}: {GuestKernel.ImagePath(release!)} is missing ({kernel.InstallCommand})");
        using var zone = TestZone.InShm(512UL << 20);
        // Any bytes do: the harness only carries the module, this guest never loads it. One
        // folder for every run, so the initramfs cache keeps a single archive of it.
        string module = Path.Combine(RepoPaths.Artifacts("harness-module"), ModuleKernel.ModuleName);
        File.WriteAllBytes(module, new byte[12345]);
        using var guest = QemuGuest.Start(new GuestOptions
        {
            KernelRelease = release,
            Module = module,
            Devices = QemuDevices.IvshmemPlain(zone.Path),
        }, output.WriteLine);

        Assert.Contains($".{release}-", guest.Name, StringComparison.Ordinal);
        Assert.Equal(release, guest.Exec("echo release=$(uname -r)")["release"]);
        Assert.Equal("12345", guest.Exec($"stat -c size=%s {Initramfs.ModuleDirectory}/{ModuleKernel.ModuleName}")["size"]);
        Assert.Equal(zone.Size.ToString(CultureInfo.InvariantCulture), guest.Exec("sgtool info $SG_DEV")["bar2_size"]);
        Assert.Equal("0x00000000", guest.Exec("sgfstest sum /dev/null")["crc"]);
        Assert.Equal(0, guest.Shutdown());
    }

    [SkippableFact]
    public void Exec_WhileBackgroundJobsEnd_LosesNoByteOfTheNextCommand()
    {
        // Background jobs of the command loop's shell end while it reads the next line: each
        // ending is a SIGCHLD, which made busybox's read builtin drop what it had read so far.
        GuestEnvironment.RequireOrSkip();
        using var guest = QemuGuest.Start(new GuestOptions(), output.WriteLine);
        string word = string.Concat(Enumerable.Repeat("0123456789", 150));
        for (int round = 0; round < 3; round++)
        {
            guest.Exec("for i in $(seq 1 100); do usleep $((i * 3000)) & done");
            Assert.Equal(word, guest.Exec($"echo long={word}")["long"]);
        }

        Assert.Equal(0, guest.Shutdown());
    }

    [SkippableFact]
    public void Script_FailedCheck_FailsTheWaitWithScriptLineAndCondition()
    {
        GuestEnvironment.RequireOrSkip();
        using var guest = QemuGuest.Start(new GuestOptions
        {
            Script = "sg_say before=1\nsg_check $LINENO '[ \"$SG_DEV\" = 0000:00:09.0 ]'\nsg_say after=1\n",
            Interactive = false,
        });

        Assert.Equal("1", guest.WaitFor("before"));
        var e = Assert.Throws<GuestException>(() => guest.WaitFor("after"));
        Assert.Contains("the guest reported fail=/stargate/test.sh:2: [ \"$SG_DEV\" = 0000:00:09.0 ]", e.Message, StringComparison.Ordinal);
        Assert.Contains("--- last console lines ---", e.Message, StringComparison.Ordinal);
        Assert.Equal("1", guest.WaitFor("script"));
        Assert.Equal(0, guest.WaitForExit());
    }

    [SkippableFact]
    public void KernelPanic_EndsQemu_AndTheWaitFailsAtOnceWithTheConsole()
    {
        GuestEnvironment.RequireOrSkip();
        using var guest = QemuGuest.Start(new GuestOptions { Script = "echo c > /proc/sysrq-trigger\n" });

        var e = Assert.Throws<GuestException>(() => guest.WaitFor("ready"));
        Assert.Contains("QEMU exited", e.Message, StringComparison.Ordinal);
        Assert.Contains("Kernel panic", e.Message, StringComparison.Ordinal);
    }
}
