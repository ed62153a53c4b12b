using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Probes;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>probes.json's requirements checked against probe results, without a compiler.</summary>
public sealed class RequirementTests : IDisposable
{
    private readonly ScratchDirectory scratch = new();
    private readonly ProbeSet probes;

    public RequirementTests()
    {
        ScratchTemplates.Probe(scratch, "must", "include/linux/must.h", "must_symbol", "");
        ScratchTemplates.Probe(scratch, "new_form", "include/linux/api.h", null, "");
        ScratchTemplates.Probe(scratch, "old_form", "include/linux/api.h", null, "");
        ScratchTemplates.Requirements(scratch, """{ "allOf": ["must"], "oneOf": [{ "api": "the api", "forms": ["new_form", "old_form"] }] }""");
        probes = ProbeSet.Load(scratch.Combine("probes"));
    }

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Check_WhenEveryRequirementIsMet_GivesNoDiagnostic()
    {
        Assert.Empty(Check(must: true, newForm: false, oldForm: true));
    }

    [Fact]
    public void Check_WhenNoFormCompiles_NamesTheApiAndEveryFormTried()
    {
        var diagnostic = Assert.Single(Check(must: true, newForm: false, oldForm: false));

        Assert.StartsWith("include/linux/api.h(7,3): error: the api: no form the templates know compiles on this kernel (tried new_form: new_form for the test; old_form: old_form for the test)", diagnostic.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WhenTwoFormsCompile_IsAnError()
    {
        var diagnostic = Assert.Single(Check(must: true, newForm: true, oldForm: true));

        Assert.Contains("the api: new_form and old_form both compile", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WhenSeveralRequirementsFail_ReportsThemAllInOrder()
    {
        var diagnostics = Check(must: false, newForm: false, oldForm: false);

        Assert.Equal(2, diagnostics.Count);
        Assert.StartsWith("include/linux/must.h(7,3): error: this kernel lacks must for the test (probe must does not compile)", diagnostics[0].ToString(), StringComparison.Ordinal);
        Assert.StartsWith("the api:", diagnostics[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WhenProbesJsonNamesAnUnknownProbe_PointsAtTheName()
    {
        ScratchTemplates.Requirements(scratch, "{\n  \"allOf\": [\"must\",\n    \"missing\"]\n}\n");

        var e = Assert.Throws<CodegenException>(() => ProbeSet.Load(scratch.Combine("probes")));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal((3, 5), (diagnostic.Line, diagnostic.Column));
        Assert.Contains("'missing' is not a probe", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WhenAProbeHasNoCommentHeader_SaysWhatIsMissing()
    {
        scratch.Write("probes/bare.c", "#include <linux/fs.h>\n");

        var e = Assert.Throws<CodegenException>(() => ProbeSet.Load(scratch.Combine("probes")));

        Assert.Equal(3, e.Diagnostics.Count);
        Assert.All(e.Diagnostics, d => Assert.EndsWith("bare.c", d.File, StringComparison.Ordinal));
    }

    [Fact]
    public void RealProbes_EveryProbeIsRequiredAndDocumented()
    {
        var real = ProbeSet.Load(Repo.Folders.Probes);
        var required = real.AllOf.Concat(real.OneOf.SelectMany(g => g.Forms)).ToList();

        Assert.Equal(required.Count, required.Distinct().Count());
        Assert.Equal(real.Probes.Select(p => p.Name).Order(StringComparer.Ordinal), required.Order(StringComparer.Ordinal));
        Assert.All(real.Probes, p => Assert.StartsWith("include/", p.Header, StringComparison.Ordinal));
    }

    /// <summary>Locates every probe at line 7, column 3 of its header, so that the position shows in the text.</summary>
    private List<Diagnostic> Check(bool must, bool newForm, bool oldForm) =>
        Requirements.Check(
            probes,
            new Dictionary<string, bool> { ["must"] = must, ["new_form"] = newForm, ["old_form"] = oldForm },
            probe => (probe.Header, 7, 3));
}
