using System.Text;

namespace Stargate.Interop.Generator;

/// <summary>
/// The command line: <c>Stargate.Interop.Generator [--check] &lt;header&gt; &lt;output.cs&gt;</c>.
/// Exit 0: written, or up to date with --check. Exit 1: diagnostics, or --check found the file
/// out of date. Exit 2: bad usage.
/// </summary>
public static class GeneratorCommand
{
    public const string Usage = "usage: Stargate.Interop.Generator [--check] <header> <output.cs>";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter errors)
    {
        bool check = args.Contains("--check");
        string[] paths = [.. args.Where(a => a != "--check")];
        if (paths.Length != 2 || paths.Any(p => p.StartsWith('-')))
        {
            errors.WriteLine(Usage);
            return 2;
        }

        (string header, string target) = (paths[0], paths[1]);
        GenerationResult result = ZoneMirrorGenerator.Generate(header, target);
        foreach (Diagnostic diagnostic in result.Diagnostics)
        {
            errors.WriteLine(diagnostic);
        }

        if (result.Text is null)
        {
            errors.WriteLine($"{header}: error: no mirror generated ({result.Diagnostics.Count(d => d.IsFailure)} problems)");
            return 1;
        }

        if (check)
        {
            string current = File.Exists(target) ? File.ReadAllText(target, Utf8NoBom) : string.Empty;
            if (TextDiff.Summarize(result.Text, current) is { } difference)
            {
                errors.WriteLine($"{target}: error: out of date with {header}; {difference}");
                return 1;
            }

            output.WriteLine($"{target} is up to date with {header}");
            return 0;
        }

        File.WriteAllText(target, result.Text, Utf8NoBom);
        output.WriteLine($"wrote {target} from {header}");
        return 0;
    }
}
