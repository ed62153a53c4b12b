using System.Net.Sockets;
using System.Text;
using Stargate.Testing;

namespace Stargate.Host.Tests.Cli;

/// <summary>
/// `stargate serve` under systemd (hostbackend/Stargate.Host/systemd/stargate@.service,
/// Type=notify): it says READY=1 on NOTIFY_SOCKET once it serves and STOPPING=1 at SIGTERM,
/// logs with the journal's priority prefixes when the journal reads its stderr, and the
/// shipped unit passes systemd-analyze verify.
/// </summary>
public class SystemdTests
{
    [Fact]
    public void Serve_WithNotifySocket_SaysReadyThenStopping_AndLogsWithPriorities()
    {
        using var zone = new TempZone(16UL << 20);
        string notify = zone.Scratch("notify");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(notify));
        listener.ReceiveTimeout = 30_000;
        var environment = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify, ["JOURNAL_STREAM"] = "8:12345" };
        using var serve = new BackgroundStargate(environment, "serve", zone.Path, "--socket", zone.Scratch("sock"));
        zone.Scratch("sock.ctl");
        zone.Scratch("serve");

        string ready = Receive(listener);
        Assert.Contains("READY=1", ready.Split('\n'));
        Assert.Contains($"MAINPID=", ready, StringComparison.Ordinal);
        Assert.Equal(0, StargateProcess.Run("mkdir", zone.Path, "/served").ExitCode);  // serving once ready

        serve.Terminate();
        Assert.Equal("STOPPING=1", Receive(listener));
        Assert.Equal(0, serve.WaitForExit());
        var logLines = serve.Stderr.Split('\n').Where(l => l.Contains("stargate.serve", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(logLines);
        Assert.All(logLines, l => Assert.Matches(@"^<[0-7]>stargate\.serve", l));
    }

    [Fact]
    public void Serve_WithoutNotifySocket_LogsWithTimestamps()
    {
        using var zone = new TempZone(16UL << 20);
        using var serve = BackgroundStargate.Serve(zone);
        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());
        Assert.Matches(@"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: stargate\.serve", serve.Stderr);
    }

    [SkippableFact]
    public void ShippedUnit_PassesSystemdAnalyzeVerify()
    {
        Skip.If(ProcessRunner.Which("systemd-analyze") is null, "needs systemd-analyze (Debian package systemd)");
        string unit = Path.Combine(AppContext.BaseDirectory, "systemd", "stargate@.service");
        string apphost = Path.Combine(AppContext.BaseDirectory, "stargate");
        Assert.True(File.Exists(apphost), $"{apphost} is missing");
        string dir = Directory.CreateTempSubdirectory("stargate-unit-").FullName;
        try
        {
            // An instance of the template, with ExecStart at this build's command (verify checks it is executable).
            string instance = Path.Combine(dir, "stargate@verify.service");
            File.WriteAllText(instance, File.ReadAllText(unit).Replace("/usr/local/bin/stargate", apphost, StringComparison.Ordinal));
            var verify = ProcessRunner.Run("systemd-analyze", ["verify", "--man=no", instance], TimeSpan.FromSeconds(60));
            Assert.True(verify.ExitCode == 0 && verify.Stderr.Trim().Length == 0, verify.ToString());
            Assert.Contains("Type=notify", File.ReadAllText(unit), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Receive(Socket listener)
    {
        var buffer = new byte[4096];
        int n = listener.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }
}
