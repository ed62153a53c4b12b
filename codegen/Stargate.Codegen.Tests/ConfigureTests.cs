using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Probes;
using Stargate.Codegen.Tests.Support;

namespace Stargate.Codegen.Tests;

/// <summary>probes/configure.sh on recorded results (-f): probes.list's checks and the configuration header, without a compiler.</summary>
public sealed class ConfigureTests : IDisposable
{
    private readonly ScratchDirectory scratch = new();

    public ConfigureTests()
    {
        ScratchTemplates.Probe(scratch, "must", "include/linux/must.h", "must_symbol", "");
        ScratchTemplates.Probe(scratch, "new_form", "include/linux/api.h", null, "");
        ScratchTemplates.Probe(scratch, "old_form", "include/linux/api.h", null, "");
        ScratchTemplates.Probe(scratch, "nice", "include/linux/nice.h", null, "");
        ScratchTemplates.Requirements(scratch, "# a comment\nallof must\noneof new_form,old_form   the api\n\noptional nice  works without\n");
    }

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Configure_WhenEveryRequirementIsMet_WritesOneLinePerProbeInOrder()
    {
        string header = Configure(must: true, newForm: false, oldForm: true);

        Assert.Contains("""
            #ifndef _STARGATEFS_CONFIG_H
            #define _STARGATEFS_CONFIG_H

            #define STARGATEFS_HAVE_MUST 1
            /* #undef STARGATEFS_HAVE_NEW_FORM */
            /* #undef STARGATEFS_HAVE_NICE */
            #define STARGATEFS_HAVE_OLD_FORM 1

            #endif /* _STARGATEFS_CONFIG_H */

            """.ReplaceLineEndings("\n"), header, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', header);
    }

    [Fact]
    public void Configure_WhenNoFormCompiles_NamesTheApiAndEveryFormTried()
    {
        var diagnostic = Assert.Single(Fails(must: true, newForm: false, oldForm: false).Diagnostics);

        Assert.StartsWith("include/linux/api.h(1,1): error: the api: no form the module knows compiles on this kernel (tried new_form: new_form for the test; old_form: old_form for the test)", diagnostic.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_WhenTwoFormsCompile_IsAnError()
    {
        var diagnostic = Assert.Single(Fails(must: true, newForm: true, oldForm: true).Diagnostics);

        Assert.Contains("the api: new_form and old_form compile, but exactly one form must", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_WhenSeveralRequirementsFail_ReportsThemAllInOrder()
    {
        var e = Fails(must: false, newForm: false, oldForm: false);

        Assert.Equal(2, e.Diagnostics.Count);
        Assert.Equal("include/linux/must.h(1,1): error: this kernel lacks must for the test (probe must does not compile): the module needs it", e.Diagnostics[0].ToString());
        Assert.StartsWith("the api:", e.Diagnostics[1].Message, StringComparison.Ordinal);
        Assert.StartsWith("the probe results in ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_WhenTheResultsLackAProbe_SaysToProbeAgain()
    {
        var e = Assert.Throws<CodegenException>(() => ProbeScript.Configure(new Dictionary<string, bool> { ["must"] = true, ["old_form"] = true, ["new_form"] = false }, scratch.Combine("probes")));

        Assert.Contains(e.Diagnostics, d => d.Message == "no result for nice: it was recorded before that probe existed; probe the kernel again");
    }

    [Fact]
    public void Configure_WhenProbesListNamesAnUnknownProbe_PointsAtTheName()
    {
        ScratchTemplates.Requirements(scratch, "allof must\noptional nice  x\noneof  new_form,missing,old_form the api\n");

        var e = Fails(must: true, newForm: false, oldForm: true);

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal((scratch.Combine("probes", "probes.list"), 3, 17), (diagnostic.File, diagnostic.Line, diagnostic.Column));
        Assert.Contains("'missing' is not a probe", diagnostic.Message, StringComparison.Ordinal);
        Assert.StartsWith("the probes in ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_WhenAProbeIsOnNoLineOrOnTwo_SaysWhich()
    {
        ScratchTemplates.Requirements(scratch, "allof must\noneof new_form,old_form the api\nallof old_form\n");

        var e = Fails(must: true, newForm: false, oldForm: true);

        Assert.Equal(2, e.Diagnostics.Count);
        Assert.Equal("'old_form' is on line 2 already: every probe is on one line", e.Diagnostics[0].Message);
        Assert.EndsWith("nice.c", e.Diagnostics[1].File, StringComparison.Ordinal);
        Assert.StartsWith("nice is on no line of probes.list", e.Diagnostics[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_WhenAProbeHasNoCommentHeader_SaysWhatIsMissing()
    {
        scratch.Write("probes/bare.c", "#include <linux/fs.h>\n");

        var e = Fails(must: true, newForm: false, oldForm: true);

        Assert.Equal(3, e.Diagnostics.Count);
        Assert.All(e.Diagnostics, d => Assert.EndsWith("bare.c", d.File, StringComparison.Ordinal));
    }

    [Fact]
    public void RealProbes_EveryProbeIsDocumentedWithItsHeader()
    {
        var probes = ProbeScript.Names(Repo.Folders.Probes);

        Assert.NotEmpty(probes);
        Assert.All(probes, name => Assert.Matches(@"(?m)^// Header: include/", File.ReadAllText(Path.Combine(Repo.Folders.Probes, name + ".c"))));
    }

    private string Configure(bool must, bool newForm, bool oldForm) =>
        System.Text.Encoding.UTF8.GetString(ProbeScript.Configure(Results(must, newForm, oldForm), scratch.Combine("probes")));

    private CodegenException Fails(bool must, bool newForm, bool oldForm) =>
        Assert.Throws<CodegenException>(() => ProbeScript.Configure(Results(must, newForm, oldForm), scratch.Combine("probes")));

    private static Dictionary<string, bool> Results(bool must, bool newForm, bool oldForm) =>
        new() { ["must"] = must, ["new_form"] = newForm, ["old_form"] = oldForm, ["nice"] = false };
}
