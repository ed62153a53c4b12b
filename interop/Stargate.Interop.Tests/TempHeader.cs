namespace Stargate.Interop.Tests;

/// <summary>A throwaway header (with &lt;linux/types.h&gt; included on line 1) in its own temp folder.</summary>
internal sealed class TempHeader : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("stargate-interop-");

    public TempHeader(string body)
    {
        Path = System.IO.Path.Combine(folder.FullName, "test_zone.h");
        File.WriteAllText(Path, "#include <linux/types.h>\n" + body);
    }

    public string Path { get; }

    public string OutputPath => System.IO.Path.Combine(folder.FullName, "TestZone.g.cs");

    public void Dispose() => folder.Delete(recursive: true);
}
