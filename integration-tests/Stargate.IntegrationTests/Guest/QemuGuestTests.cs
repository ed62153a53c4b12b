namespace Stargate.IntegrationTests.Guest;

/// <summary>The guest harness fails loudly: a failed check in a guest script, a kernel panic.</summary>
public sealed class QemuGuestTests
{
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
