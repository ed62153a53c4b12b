using System.Text;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Rendering;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>
/// The rendered module of every recorded kernel (golden/RELEASE/src) against a fresh render of
/// the templates from its recorded profile (golden/RELEASE/profile.json). After a deliberate
/// change to the templates or the probes: STARGATE_UPDATE_GOLDEN=1 rewrites both (the profile
/// by probing the kernel, where its headers are installed) instead of comparing.
/// </summary>
[Collection(SharedKernels.Name)]
public sealed class GoldenTests(KernelFixture kernels)
{
    private const string Regenerate = "if the change is meant, regenerate: STARGATE_UPDATE_GOLDEN=1 dotnet test codegen/Stargate.Codegen.Tests";

    /// <summary>The recorded kernels; when updating, the installed matrix kernels too.</summary>
    public static TheoryData<string> Releases() => new(ReleaseList());

    public static List<string> ReleaseList()
    {
        var releases = Directory.Exists(Repo.Golden)
            ? Directory.GetDirectories(Repo.Golden).Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
        if (Repo.UpdateGolden)
        {
            foreach (var line in MatrixKernels.LineList)
            {
                if (MatrixKernels.Headers(line) is { } headers)
                {
                    releases.Add(KernelHeaders.Open(headers).Release);
                }
            }
        }

        return releases.Order(StringComparer.Ordinal).ToList();
    }

    [Theory]
    [MemberData(nameof(Releases))]
    public void Render_FromRecordedProfile_MatchesGoldenTree(string release)
    {
        string directory = Path.Combine(Repo.Golden, release);
        string profileFile = Path.Combine(directory, "profile.json");
        string src = Path.Combine(directory, "src");
        if (Repo.UpdateGolden && MatrixKernels.HeadersOfRelease(release) is { } headers)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(profileFile, kernels.Profile(KernelHeaders.Open(headers)).ToJson());
        }

        var profile = KernelProfile.Load(profileFile);
        Assert.True(profile.CheckAgainst(kernels.Probes, profileFile) is [], $"{profileFile} does not match today's probes; {Regenerate}");
        var rendered = TemplateRenderer.RenderToMemory(Repo.Folders.Module, Repo.ZoneHeader, profile);
        if (Repo.UpdateGolden)
        {
            if (Directory.Exists(src))
            {
                Directory.Delete(src, recursive: true);
            }

            TemplateRenderer.Write(rendered, src);
            return;
        }

        var recorded = Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(src, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(recorded.SequenceEqual(rendered.Keys), $"the rendered files ({string.Join(", ", rendered.Keys)}) are not the recorded ones ({string.Join(", ", recorded)}); {Regenerate}");
        foreach (var (path, bytes) in rendered)
        {
            string expected = File.ReadAllText(Path.Combine(src, path));
            string actual = Encoding.UTF8.GetString(bytes);
            Assert.True(expected == actual, $"{release}/src/{path} differs from its golden copy at {FirstDifference(expected, actual)}; {Regenerate}");
        }
    }

    [Fact]
    public void Render_Twice_WritesIdenticalBytes()
    {
        var release = ReleaseList().FirstOrDefault();
        Assert.True(release is not null, $"no recorded kernel in {Repo.Golden}; {Regenerate}");
        var profile = KernelProfile.Load(Path.Combine(Repo.Golden, release, "profile.json"));
        using var scratch = new ScratchDirectory();
        var first = TemplateRenderer.Render(Repo.Folders.Module, Repo.ZoneHeader, profile, scratch.Combine("a"));
        var second = TemplateRenderer.Render(Repo.Folders.Module, Repo.ZoneHeader, profile, scratch.Combine("b"));

        Assert.Equal(first, second);
        Assert.Equal(first.Order(StringComparer.Ordinal), first);
        foreach (var path in first)
        {
            var bytes = File.ReadAllBytes(scratch.Combine("a", path));
            Assert.Equal(bytes, File.ReadAllBytes(scratch.Combine("b", path)));
            Assert.DoesNotContain((byte)'\r', bytes);
        }
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string? x = i < e.Length ? e[i] : null;
            string? y = i < a.Length ? a[i] : null;
            if (x != y)
            {
                return $"line {i + 1}: golden '{x}', rendered '{y}'";
            }
        }

        return "no line (the bytes differ)";
    }
}
