using System.Text.Json;
using System.Text.RegularExpressions;
using Stargate.Codegen.Diagnostics;

namespace Stargate.Codegen.Probes;

/// <summary>
/// The probes of a templates folder (probes/*.c) and what the templates require of a kernel
/// (probes/probes.json): <c>allOf</c>, probes that must all compile; <c>oneOf</c>, groups of
/// forms of one API of which exactly one must compile.
/// </summary>
internal sealed partial class ProbeSet
{
    public const string MetadataFile = "probes.json";

    private ProbeSet(IReadOnlyList<Probe> probes, IReadOnlyList<string> allOf, IReadOnlyList<OneOfRequirement> oneOf)
    {
        Probes = probes;
        AllOf = allOf;
        OneOf = oneOf;
    }

    /// <summary>Every probe, sorted by name.</summary>
    public IReadOnlyList<Probe> Probes { get; }

    public IReadOnlyList<string> AllOf { get; }

    public IReadOnlyList<OneOfRequirement> OneOf { get; }

    public Probe this[string name] => Probes.First(p => p.Name == name);

    /// <summary>Loads a probes folder; every problem in it is collected and reported together.</summary>
    public static ProbeSet Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new CodegenException($"{directory}: no such directory (the probes live in guest-module-templates/probes; pass --templates)");
        }

        var diagnostics = new List<Diagnostic>();
        var probes = Directory.GetFiles(directory, "*.c")
            .Order(StringComparer.Ordinal)
            .Select(file => ReadProbe(file, diagnostics))
            .OfType<Probe>()
            .ToList();

        string metadata = Path.Combine(directory, MetadataFile);
        var (allOf, oneOf) = ReadRequirements(metadata, probes.Select(p => p.Name).ToHashSet(StringComparer.Ordinal), diagnostics);
        CodegenException.ThrowIfAny(diagnostics, $"the probes in {directory} are not usable");
        return new ProbeSet(probes, allOf, oneOf);
    }

    private static Probe? ReadProbe(string file, List<Diagnostic> diagnostics)
    {
        string text = File.ReadAllText(file);
        string name = Path.GetFileNameWithoutExtension(file);
        var fields = HeaderField().Matches(text)
            .GroupBy(m => m.Groups[1].Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Groups[2].Value.Trim(), StringComparer.Ordinal);
        int before = diagnostics.Count;
        if (!Identifier().IsMatch(name))
        {
            diagnostics.Add(Diagnostic.At(file, $"probe name '{name}' is not a C identifier of lower-case letters, digits and '_': templates use it as api.{name}"));
        }

        if (!fields.TryGetValue("Probe", out var declared) || declared != name)
        {
            diagnostics.Add(Diagnostic.At(file, $"the comment header must start with '// Probe: {name}' (the file's name)"));
        }

        foreach (var field in new[] { "API", "Header" })
        {
            if (!fields.ContainsKey(field))
            {
                diagnostics.Add(Diagnostic.At(file, $"the comment header has no '// {field}:' line"));
            }
        }

        return diagnostics.Count > before ? null : new Probe(name, fields["API"], fields["Header"], fields.GetValueOrDefault("Symbol"), file);
    }

    private static (List<string> AllOf, List<OneOfRequirement> OneOf) ReadRequirements(string file, HashSet<string> probes, List<Diagnostic> diagnostics)
    {
        var allOf = new List<string>();
        var oneOf = new List<OneOfRequirement>();
        if (!File.Exists(file))
        {
            diagnostics.Add(Diagnostic.At(file, "no such file: it lists what the templates require (allOf, oneOf)"));
            return (allOf, oneOf);
        }

        string text = File.ReadAllText(file);
        void Unknown(string name)
        {
            if (!probes.Contains(name))
            {
                int at = text.IndexOf($"\"{name}\"", StringComparison.Ordinal);
                diagnostics.Add(Diagnostic.AtOffset(file, text, Math.Max(at, 0), $"'{name}' is not a probe: there is no {name}.c beside this file"));
            }
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.TryGetProperty("allOf", out var all))
            {
                foreach (var name in all.EnumerateArray().Select(e => e.GetString()!))
                {
                    Unknown(name);
                    allOf.Add(name);
                }
            }

            if (root.TryGetProperty("oneOf", out var groups))
            {
                foreach (var group in groups.EnumerateArray())
                {
                    var forms = group.GetProperty("forms").EnumerateArray().Select(e => e.GetString()!).ToList();
                    forms.ForEach(Unknown);
                    oneOf.Add(new OneOfRequirement(group.GetProperty("api").GetString()!, forms));
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            diagnostics.Add(Diagnostic.At(file, $"not valid: {e.Message} (expected {{ \"allOf\": [names], \"oneOf\": [{{ \"api\": text, \"forms\": [names] }}] }})"));
        }

        return (allOf, oneOf);
    }

    [GeneratedRegex(@"^//\s*(Probe|API|Header|Symbol):(.*)$", RegexOptions.Multiline)]
    private static partial Regex HeaderField();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex Identifier();
}
