namespace Stargate.Codegen.Tests.Support;

/// <summary>Paths in this checkout, found from the test binary upwards (the folder with Stargate.slnx).</summary>
internal static class Repo
{
    public static readonly string Root = FindRoot();

    public static string Templates => Path.Combine(Root, "guest-module-templates");

    public static TemplateFolders Folders => new(Templates);

    public static string ZoneHeader => Path.Combine(Root, "interop", "include", "stargate_zone.h");

    /// <summary>
    /// codegen/Stargate.Codegen.Tests/golden: what codegen generates. tree/ holds the rendered
    /// templates (Kbuild, dkms.conf: the same for every kernel); RELEASE/ a recorded kernel's
    /// profile.json and the stargatefs_config.h configure.sh writes for it.
    /// </summary>
    public static string Golden => Path.Combine(Root, "codegen", "Stargate.Codegen.Tests", "golden");

    /// <summary>STARGATE_UPDATE_GOLDEN=1: the golden tests rewrite the baselines instead of comparing.</summary>
    public static string GoldenTree => Path.Combine(Golden, "tree");

    public static bool UpdateGolden => Environment.GetEnvironmentVariable("STARGATE_UPDATE_GOLDEN") == "1";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Stargate.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Stargate.slnx above {AppContext.BaseDirectory}");
    }
}
