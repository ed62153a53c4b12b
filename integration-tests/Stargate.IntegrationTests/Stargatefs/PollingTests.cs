using Stargate.Guests.Kernels;
using Stargate.IntegrationTests.Guest;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Polling for replies (docs/requests.md "Polling"): the module counts what its requests cost
/// in the area device's stargatefs_requests; a guest polling or sleeping for its replies gets
/// every one (with poll_us at 0 every waiter sleeps, so the host must ring it); poll_us takes
/// 0..10000 only; the service counts its own steps per guest (`stargate peers --json`).
/// </summary>
public sealed class PollingTests(ITestOutputHelper output)
{
    private const string PollUs = "/sys/module/stargatefs/parameters/poll_us";

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void RequestsAreAnswered_PollingOrSleeping_AndEveryStepIsCounted(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output);
        var g = served.Guests[0];
        g.Exec("mkdir /mnt/p");

        var before = Stats(g);
        g.Exec("sgbench rtt /mnt/p 300");
        var polling = Stats(g);
        output.WriteLine($"poll_us 200: {string.Join(' ', polling.Select(kv => $"{kv.Key}={kv.Value}"))}");
        long requests = polling["requests"] - before["requests"];
        g.Check(requests >= 300, $"300 fchmods are at least 300 requests: {requests}");
        g.Check(polling["polled"] + polling["slept"] == polling["requests"], "each request is either polled or slept for");
        g.Check(polling["enqueue_ns"] > before["enqueue_ns"] && polling["wait_ns"] > before["wait_ns"] && polling["doorbell_ns"] > before["doorbell_ns"], "the steps' times grow");

        g.Check(g.TryExec($"echo 10001 > {PollUs}").ExitCode != 0, "poll_us 10001 is refused");
        g.Check(g.Exec($"cat {PollUs}").Lines[0] == "200", "and poll_us stays 200");

        g.Exec($"echo 0 > {PollUs}");
        g.Exec("sgbench rtt /mnt/p 100 && touch /mnt/p/after");
        var sleeping = Stats(g);
        output.WriteLine($"poll_us 0: {string.Join(' ', sleeping.Select(kv => $"{kv.Key}={kv.Value}"))}");
        g.Check(sleeping["polled"] == polling["polled"], "with poll_us 0 no request polls");
        g.Check(sleeping["slept"] - polling["slept"] >= 100, "every request sleeps");
        long ticks = sleeping["ticks"] - polling["ticks"];
        g.Check(ticks <= 20, $"and the host rang the sleepers awake: {ticks} of 100 waited out a 4 ms re-check instead (all would, unrung)");
        g.Check(sleeping["woken"] > polling["woken"], "vector 0's interrupt woke the sleepers");
        g.Exec($"echo 200 > {PollUs}");

        var cost = served.Server.Peers().Single(p => p.Kind == "guest").Cost;
        g.Check(cost is { } c && c.Requests >= requests + 100 && c.ChangeNs > 0 && c.ReplyNs > 0,
            $"the service counted the guest's requests and its steps: {cost}");
        g.Check(served.Host("ls", "/p").Contains("after", StringComparison.Ordinal), "the host sees what the sleeping guest made");
        g.Exec("rm -r /mnt/p");
        served.Finish();
    }

    /// <summary>The area device's counters (the one of the guest's devices that has sent requests).</summary>
    private static Dictionary<string, long> Stats(StargatefsGuest g) =>
        ModuleCounters.Busiest(g.Exec($"cat {ModuleCounters.Files}").Lines) ?? throw new InvalidOperationException("no stargatefs_requests counters in the guest");
}
