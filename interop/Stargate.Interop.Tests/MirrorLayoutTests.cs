using System.Runtime.InteropServices;

namespace Stargate.Interop.Tests;

public class MirrorLayoutTests
{
    [SkippableFact]
    public void MirrorLayoutAndValues_CompileAsStaticAssertsAgainstTheHeader()
    {
        Skip.IfNot(Gcc.IsAvailable, Gcc.MissingReason);
        IReadOnlyList<StaticAssertion> assertions = CLayout.Assertions();

        (int exitCode, string output) = Gcc.CheckSyntax(CLayout.Source(assertions), RepoFiles.IncludeDirectory);

        Assert.True(exitCode == 0, $"gcc rejected the C# mirror's layout (exit {exitCode}):\n{output}");
        Assert.Contains(assertions, a => a.Message == "SgzInode.PtRoot offset");
        Assert.Contains(assertions, a => a.Message == "SgzAbi.Magic value");
    }

    [SkippableFact]
    public void LayoutCheck_WhenAnOffsetIsWrong_IsRejectedByGcc()
    {
        Skip.IfNot(Gcc.IsAvailable, Gcc.MissingReason);
        const string Altered = "SgzInode.PtRoot offset";
        IReadOnlyList<StaticAssertion> assertions =
        [
            .. CLayout.Assertions().Select(a => a.Message == Altered
                ? a with { Condition = a.Condition.Replace("== 32", "== 33", StringComparison.Ordinal) }
                : a),
        ];
        Assert.Contains(assertions, a => a.Message == Altered && a.Condition.EndsWith("== 33", StringComparison.Ordinal));

        (int exitCode, string output) = Gcc.CheckSyntax(CLayout.Source(assertions), RepoFiles.IncludeDirectory);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(Altered, output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryMirrorStruct_IsCoveredByItsFieldsWithoutGaps()
    {
        Assert.NotEmpty(MirrorTypes.Structs);
        foreach (MirrorStruct layout in MirrorTypes.Structs)
        {
            // The zone ABI spells out every byte (explicit reserved fields), so no padding.
            int end = 0;
            foreach (MirrorField field in layout.Fields.OrderBy(f => f.Offset))
            {
                Assert.True(field.Offset == end,
                    $"{layout.Type.Name}.{field.Name} starts at {field.Offset}, after a gap or overlap at {end}");
                end = field.Offset + field.Size;
            }

            Assert.True(end == layout.Size, $"{layout.Type.Name} is {layout.Size} bytes, its fields end at {end}");
            Assert.Equal(layout.Size, Marshal.SizeOf(layout.Type));
        }
    }
}
