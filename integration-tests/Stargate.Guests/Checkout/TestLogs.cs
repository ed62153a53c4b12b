namespace Stargate.Guests.Checkout;

/// <summary>
/// artifacts/guest-logs (or the folder a program chose with <see cref="UseFolder"/>): the
/// guests' consoles and the services' stderr of this run. The logs of earlier runs are deleted
/// on first use, so that none is mistaken for this run's.
/// </summary>
public static class TestLogs
{
    private static string _folder = "guest-logs";

    private static readonly Lazy<string> LazyDirectory = new(() =>
    {
        string directory = RepoPaths.Artifacts(_folder);
        foreach (string old in Directory.EnumerateFiles(directory, "*.log"))
        {
            File.Delete(old);
        }

        return directory;
    });

    /// <summary>
    /// Puts this process's logs in artifacts/@folder instead (the benchmark harness keeps its
    /// own, so that a harness run from a test does not delete the tests' logs). Call before any log is made.
    /// </summary>
    public static void UseFolder(string folder)
    {
        if (LazyDirectory.IsValueCreated)
        {
            throw new InvalidOperationException($"the logs are already in {LazyDirectory.Value}");
        }

        _folder = folder;
    }

    /// <summary>The path of the log called @name (".log" is added).</summary>
    public static string PathFor(string name) => Path.Combine(LazyDirectory.Value, name + ".log");
}
