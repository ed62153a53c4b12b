using Stargate.Interop.Generator.Model;
using Stargate.Interop.Generator.Reading;
using Stargate.Interop.Generator.Writing;

namespace Stargate.Interop.Generator;

/// <summary>The zone header in, its C# mirror out.</summary>
public static class ZoneMirrorGenerator
{
    /// <summary>The tool named by the [GeneratedCode] attribute on every generated type.</summary>
    public const string ToolName = "Stargate.Interop.Generator";

    /// <summary>
    /// Generates the mirror of <paramref name="headerPath"/>. <paramref name="outputPath"/> is
    /// only named in the banner; nothing is written. Fails (null text) on any clang error or
    /// warning and on anything the zone ABI rules forbid, reporting all of them.
    /// </summary>
    public static GenerationResult Generate(string headerPath, string outputPath)
    {
        var diagnostics = new DiagnosticBag();
        if (!File.Exists(headerPath))
        {
            diagnostics.Add(new Diagnostic(headerPath, 0, 0, DiagnosticSeverity.Error, "header not found"));
            return new GenerationResult(null, diagnostics.Items);
        }

        AbiModel? model = HeaderReader.Read(headerPath, diagnostics);
        string? text = model is null || diagnostics.HasFailures
            ? null
            : CSharpWriter.Write(model, RepoPaths.Display(headerPath), RepoPaths.Display(outputPath));
        return new GenerationResult(text, diagnostics.Items);
    }
}
