using System.Text;
using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

public class MirrorDriftTests
{
    [Fact]
    public void CheckedInMirror_IsByteForByteWhatTheGeneratorMakesOfTheHeader()
    {
        GenerationResult result = ZoneMirrorGenerator.Generate(RepoFiles.Header, RepoFiles.Mirror);

        Assert.True(result.Succeeded, string.Join('\n', result.Diagnostics));
        byte[] expected = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(result.Text!);
        byte[] actual = File.ReadAllBytes(RepoFiles.Mirror);
        Assert.True(expected.AsSpan().SequenceEqual(actual),
            $"{RepoFiles.MirrorPath} is out of date with {RepoFiles.HeaderPath}: " +
            $"{TextDiff.Summarize(result.Text!, Encoding.UTF8.GetString(actual)) ?? "they differ in encoding"}\n" +
            $"Regenerate it with: {RepoFiles.RegenerateCommand}");
    }
}
