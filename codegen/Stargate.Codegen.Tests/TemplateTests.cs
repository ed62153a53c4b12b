using System.Text;
using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Rendering;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>The module's tree from a module folder, without kernel headers: Scriban templates, copies, the probes.</summary>
public sealed class TemplateTests : IDisposable
{
    private readonly ScratchDirectory scratch = new();

    public void Dispose() => scratch.Dispose();

    private TemplateFolders Folders => new(scratch.Path);

    [Fact]
    public void Sources_RendersTemplatesWithoutSuffix_CopiesOtherFiles_AddsTheProbesAndTheZoneHeader()
    {
        ScratchTemplates.HelloModule(scratch);
        scratch.Write("stargatefs/util.c", "// {{ copied as it is }}\n");
        scratch.Write("stargatefs/sub/notes.txt.sbn", "{{ module.name }}\r\n");

        var files = ModuleTree.Sources(Folders, Repo.ZoneHeader);

        Assert.Equal(
            ["Kbuild", "Makefile", "dkms.conf", "include/stargate_zone.h", "main.c", "probes/configure.sh", "probes/probes.list", "sub/notes.txt", "util.c"],
            files.Keys.Where(path => !path.EndsWith(".c", StringComparison.Ordinal) || !path.StartsWith("probes/", StringComparison.Ordinal)));
        Assert.Equal(ProbeNames().Select(name => $"probes/{name}.c"), files.Keys.Where(path => path.StartsWith("probes/", StringComparison.Ordinal) && path.EndsWith(".c", StringComparison.Ordinal)));
        Assert.Equal("// {{ copied as it is }}\n", Text(files, "util.c"));
        Assert.Equal("stargatefs\n", Text(files, "sub/notes.txt"));
        Assert.Equal(File.ReadAllBytes(Repo.ZoneHeader), files["include/stargate_zone.h"]);
        Assert.Contains("stargatefs-y := main.o util.o\n", Text(files, "Kbuild"), StringComparison.Ordinal);
        Assert.Contains($"-DSTARGATEFS_VERSION=\\\"{ModuleInfo.Version}\\\"", Text(files, "Kbuild"), StringComparison.Ordinal);
        Assert.Contains($"PACKAGE_VERSION=\"{ModuleInfo.Version}\"", Text(files, "dkms.conf"), StringComparison.Ordinal);
    }

    [Fact]
    public void ForKernel_AddsTheConfigurationHeaderOfTheProfile()
    {
        ScratchTemplates.HelloModule(scratch);
        var golden = Directory.GetDirectories(Repo.Golden).Where(d => d != Repo.GoldenTree).Order(StringComparer.Ordinal).First();
        var profile = KernelProfile.Load(Path.Combine(golden, "profile.json"));

        var files = ModuleTree.ForKernel(Folders, Repo.ZoneHeader, profile);

        Assert.Equal(File.ReadAllBytes(Path.Combine(golden, "stargatefs_config.h")), files["stargatefs_config.h"]);
    }

    [Fact]
    public void Render_DoesNotEscapeHtmlCharacters()
    {
        ScratchTemplates.HelloModule(scratch);
        scratch.Write("stargatefs/x.txt.sbn", "#define X \"{{ module.version }}\" & <{{ module.name }}> '\n");

        var files = ModuleTree.Sources(Folders, Repo.ZoneHeader);

        Assert.Equal($"#define X \"{ModuleInfo.Version}\" & <stargatefs> '\n", Text(files, "x.txt"));
    }

    [Theory]
    [InlineData("x\n  {{ module.nope }}\n", 2, 13, "Cannot get member with name nope")]
    [InlineData("x\ny {{ kernel.release }}\n", 2, 6, "The variable or function `kernel` was not found")]
    [InlineData("{{ date.now }}\n", 1, 4, "The variable or function `date` was not found")]
    public void Render_WhenATemplateNamesSomethingUnknown_ReportsItsFileLineAndColumn(string template, int line, int column, string message)
    {
        ScratchTemplates.HelloModule(scratch);
        string file = scratch.Write("stargatefs/x.txt.sbn", template);

        var e = Assert.Throws<CodegenException>(() => ModuleTree.Sources(Folders, Repo.ZoneHeader));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal((file, line, column), (diagnostic.File, diagnostic.Line, diagnostic.Column));
        Assert.StartsWith("Scriban: " + message, diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WhenATemplateIsNotValidScriban_ReportsTheFileAndLine()
    {
        ScratchTemplates.HelloModule(scratch);
        string file = scratch.Write("stargatefs/x.txt.sbn", "a\n{{ if module.name }}\nno end\n");

        var e = Assert.Throws<CodegenException>(() => ModuleTree.Sources(Folders, Repo.ZoneHeader));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal((file, 2), (diagnostic.File, diagnostic.Line));
        Assert.StartsWith("Scriban: ", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("main2.c.sbn")]
    [InlineData("compat2.h.sbn")]
    public void Sources_WhenCIsATemplate_RefusesIt(string name)
    {
        ScratchTemplates.HelloModule(scratch);
        string file = scratch.Write("stargatefs/" + name, "int x;\n");

        var e = Assert.Throws<CodegenException>(() => ModuleTree.Sources(Folders, Repo.ZoneHeader));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(file, diagnostic.File);
        Assert.StartsWith("the module's C is plain C, not a template", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_IntoADirectoryThatIsNotAnEarlierRender_Refuses()
    {
        ScratchTemplates.HelloModule(scratch);
        string precious = scratch.Write("out/precious.txt", "keep me");

        var e = Assert.Throws<CodegenException>(() => ModuleTree.Write(ModuleTree.Sources(Folders, Repo.ZoneHeader), scratch.Combine("out")));

        Assert.Contains("is neither empty nor an earlier render", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(precious));
    }

    [Fact]
    public void Write_OverAnEarlierRender_LeavesNoStaleFile()
    {
        ScratchTemplates.HelloModule(scratch);
        scratch.Write("stargatefs/old.c", "");
        ModuleTree.Write(ModuleTree.Sources(Folders, Repo.ZoneHeader), scratch.Combine("out"));
        File.Delete(scratch.Combine("stargatefs", "old.c"));

        ModuleTree.Write(ModuleTree.Sources(Folders, Repo.ZoneHeader), scratch.Combine("out"));

        Assert.False(File.Exists(scratch.Combine("out", "old.c")));
    }

    private static IEnumerable<string> ProbeNames() => Stargate.Codegen.Probes.ProbeScript.Names(Repo.Folders.Probes);

    private static string Text(SortedDictionary<string, byte[]> files, string path) => Encoding.UTF8.GetString(files[path]);
}
