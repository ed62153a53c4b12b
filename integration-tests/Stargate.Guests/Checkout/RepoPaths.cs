namespace Stargate.Guests.Checkout;

/// <summary>Where the checkout and its artifacts are, found from the running program's folder (tests or benchmark).</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The checkout: the nearest folder above the program's binaries that holds Stargate.slnx.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>artifacts/ of the checkout (git-ignored); created on first use.</summary>
    public static string Artifacts(params string[] parts)
    {
        string path = Path.Combine([Root, "artifacts", .. parts]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The real `stargate` command, copied next to the program by this library's project reference.</summary>
    public static string StargateDll => Path.Combine(AppContext.BaseDirectory, "stargate.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Stargate.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Stargate.slnx above {AppContext.BaseDirectory}: the guests are booted from a checkout");
    }
}
