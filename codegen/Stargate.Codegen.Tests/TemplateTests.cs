using System.Text;
using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Rendering;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>Rendering a templates folder, without kernel headers: a made-up profile.</summary>
public sealed class TemplateTests : IDisposable
{
    private static readonly KernelProfile Profile = new(
        "6.1.0-56-amd64", "6.1.192", 6, 1, new Dictionary<string, bool> { ["vm_flags_set"] = false, ["vm_flags_direct"] = true });

    private readonly ScratchDirectory scratch = new();

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Render_WritesTemplatesWithoutSuffix_CopiesOtherFiles_AndAddsTheZoneHeader()
    {
        ScratchTemplates.HelloModule(scratch);
        scratch.Write("stargatefs/util.c", "// {{ copied as it is }}\n");
        scratch.Write("stargatefs/sub/notes.txt.hbs", "{{kernel.line}}\r\n");

        var written = TemplateRenderer.Render(scratch.Combine("stargatefs"), Repo.ZoneHeader, Profile, scratch.Combine("out"));

        Assert.Equal(["Kbuild", "dkms.conf", "include/stargate_zone.h", "main.c", "sub/notes.txt", "util.c"], written);
        Assert.Equal("// {{ copied as it is }}\n", File.ReadAllText(scratch.Combine("out", "util.c")));
        Assert.Equal("6.1\n", File.ReadAllText(scratch.Combine("out", "sub", "notes.txt")));
        Assert.Equal(File.ReadAllBytes(Repo.ZoneHeader), File.ReadAllBytes(scratch.Combine("out", "include", "stargate_zone.h")));
        string main = File.ReadAllText(scratch.Combine("out", "main.c"));
        Assert.Contains("stargatefs: vm_flags on 6.1.0-56-amd64\\n\"", main, StringComparison.Ordinal);
        Assert.Contains("MODULE_VERSION(\"" + ModuleInfo.Version + "\")", main, StringComparison.Ordinal);
        Assert.Contains("stargatefs-y := main.o util.o\n", File.ReadAllText(scratch.Combine("out", "Kbuild")), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DoesNotEscapeHtmlCharacters()
    {
        ScratchTemplates.HelloModule(scratch, "#define X \"{{kernel.release}}\" & <{{module.name}}>\n");
        scratch.Write("stargatefs/x.c.hbs", "{{kernel.version}}");
        var rendered = TemplateRenderer.RenderToMemory(scratch.Combine("stargatefs"), Repo.ZoneHeader, Profile with { Release = "6.1.0-56+x<y>&'\"" });

        Assert.Equal("#define X \"6.1.0-56+x<y>&'\"\" & <stargatefs>\n", Encoding.UTF8.GetString(rendered["main.c"]));
    }

    [Fact]
    public void Render_WhenATemplateNamesAnUnknownApi_ReportsItsFileLineAndColumn()
    {
        ScratchTemplates.HelloModule(scratch, "int a;\n{{#if api.vm_flags_set}}\n#if 1\n  {{#unless   api.no_such_probe}}x{{/unless}}\n{{/if}}\n");

        var e = Assert.Throws<CodegenException>(() => TemplateRenderer.RenderToMemory(scratch.Combine("stargatefs"), Repo.ZoneHeader, Profile));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(scratch.Combine("stargatefs", "main.c.hbs"), diagnostic.File);
        Assert.Equal((4, 15), (diagnostic.Line, diagnostic.Column));
        Assert.StartsWith("api.no_such_probe is not a probe (known: vm_flags_direct, vm_flags_set)", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WhenATemplateIsNotValidHandlebars_ReportsTheFile()
    {
        ScratchTemplates.HelloModule(scratch, "{{#if api.vm_flags_set}}\nno end\n");

        var e = Assert.Throws<CodegenException>(() => TemplateRenderer.RenderToMemory(scratch.Combine("stargatefs"), Repo.ZoneHeader, Profile));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.EndsWith("main.c.hbs(1,1): error: Handlebars: " + diagnostic.Message["Handlebars: ".Length..], diagnostic.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("Handlebars: ", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_IntoADirectoryThatIsNotAnEarlierRender_Refuses()
    {
        ScratchTemplates.HelloModule(scratch);
        string precious = scratch.Write("out/precious.txt", "keep me");

        var e = Assert.Throws<CodegenException>(() => TemplateRenderer.Render(scratch.Combine("stargatefs"), Repo.ZoneHeader, Profile, scratch.Combine("out")));

        Assert.Contains("is neither empty nor an earlier render", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(precious));
    }

    [Fact]
    public void Render_OverAnEarlierRender_LeavesNoStaleFile()
    {
        ScratchTemplates.HelloModule(scratch);
        scratch.Write("stargatefs/old.c", "");
        TemplateRenderer.Render(scratch.Combine("stargatefs"), Repo.ZoneHeader, Profile, scratch.Combine("out"));
        File.Delete(scratch.Combine("stargatefs", "old.c"));

        TemplateRenderer.Render(scratch.Combine("stargatefs"), Repo.ZoneHeader, Profile, scratch.Combine("out"));

        Assert.False(File.Exists(scratch.Combine("out", "old.c")));
    }
}
