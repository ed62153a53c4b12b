namespace Stargate.IntegrationTests.Support;

/// <summary>
/// artifacts/guest-logs: the guests' consoles and the services' stderr of this test run. The
/// logs of earlier runs are deleted on first use, so that none is mistaken for this run's.
/// </summary>
public static class TestLogs
{
    private static readonly Lazy<string> LazyDirectory = new(() =>
    {
        string directory = RepoPaths.Artifacts("guest-logs");
        foreach (string old in Directory.EnumerateFiles(directory, "*.log"))
        {
            File.Delete(old);
        }

        return directory;
    });

    /// <summary>The path of the log called @name (".log" is added).</summary>
    public static string PathFor(string name) => Path.Combine(LazyDirectory.Value, name + ".log");
}
