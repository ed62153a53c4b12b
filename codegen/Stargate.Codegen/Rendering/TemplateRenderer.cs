using System.Text;
using System.Text.RegularExpressions;
using HandlebarsDotNet;
using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kernel;

namespace Stargate.Codegen.Rendering;

/// <summary>
/// Renders the module's template folder for one kernel profile into a source tree Kbuild can
/// build: NAME.hbs is rendered to NAME (Handlebars, no HTML escaping: this is C), any other
/// file is copied, and the zone header is added as include/stargate_zone.h. The same inputs
/// give the same bytes: sorted traversal, LF line ends, nothing taken from the clock or the machine.
/// </summary>
internal static partial class TemplateRenderer
{
    public const string TemplateSuffix = ".hbs";
    public const string ZoneHeaderPath = "include/stargate_zone.h";

    /// <summary>
    /// Renders into <paramref name="output"/>, which must be new, empty, or an earlier render
    /// (it has a Kbuild file): its old contents are removed. Returns the files written,
    /// relative, sorted. Every template problem is collected and reported together.
    /// </summary>
    public static IReadOnlyList<string> Render(string templates, string zoneHeader, KernelProfile profile, string output) =>
        Write(RenderToMemory(templates, zoneHeader, profile), output);

    /// <summary>Writes a rendered tree into <paramref name="output"/> (see <see cref="Render"/>).</summary>
    public static IReadOnlyList<string> Write(SortedDictionary<string, byte[]> files, string output)
    {
        PrepareOutput(output);
        foreach (var (path, content) in files)
        {
            string target = Path.Combine(output, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, content);
        }

        return files.Keys.ToList();
    }

    /// <summary>The rendered tree as relative path (with '/') to bytes, in ordinal order.</summary>
    public static SortedDictionary<string, byte[]> RenderToMemory(string templates, string zoneHeader, KernelProfile profile)
    {
        if (!Directory.Exists(templates))
        {
            throw new CodegenException($"{templates}: no such directory (the module's templates; pass --templates)");
        }

        if (!File.Exists(zoneHeader))
        {
            throw new CodegenException($"{zoneHeader}: no such file (the zone header; pass --zone-header)");
        }

        var sources = TemplateFiles(templates);
        var objects = sources
            .Where(path => !path.Contains('/', StringComparison.Ordinal))
            .Select(path => path.EndsWith(TemplateSuffix, StringComparison.Ordinal) ? path[..^TemplateSuffix.Length] : path)
            .Where(path => path.EndsWith(".c", StringComparison.Ordinal))
            .Select(path => path[..^2] + ".o")
            .Order(StringComparer.Ordinal)
            .ToList();

        var diagnostics = new List<Diagnostic>();
        if (objects.Count == 0)
        {
            diagnostics.Add(Diagnostic.At(templates, $"no C sources (NAME.c or NAME.c.hbs): {ModuleInfo.Name} would be empty"));
        }

        if (objects.Contains(ModuleInfo.Name + ".o"))
        {
            diagnostics.Add(Diagnostic.At(Path.Combine(templates, ModuleInfo.Name + ".c.hbs"), $"a C file may not be named after the module ({ModuleInfo.Name}): Kbuild links {ModuleInfo.Name}.o from the others"));
        }

        var model = TemplateModel.Create(profile, objects);
        var handlebars = Handlebars.Create(new HandlebarsConfiguration { NoEscape = true });
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in sources)
        {
            string source = Path.Combine(templates, path);
            string rendersTo = path.EndsWith(TemplateSuffix, StringComparison.Ordinal) ? path[..^TemplateSuffix.Length] : path;
            if (sources.Contains(rendersTo) && rendersTo != path)
            {
                diagnostics.Add(Diagnostic.At(source, $"renders to {rendersTo}, which is a file of the templates too: keep one"));
                continue;
            }

            if (rendersTo == path)
            {
                files[path] = File.ReadAllBytes(source);
                continue;
            }

            string text = File.ReadAllText(source).ReplaceLineEndings("\n");
            int before = diagnostics.Count;
            CheckApiReferences(source, text, profile, diagnostics);
            if (diagnostics.Count > before)
            {
                continue;
            }

            try
            {
                string rendered = handlebars.Compile(text)(model).ReplaceLineEndings("\n");
                files[rendersTo] = new UTF8Encoding(false).GetBytes(rendered);
            }
            catch (HandlebarsException e)
            {
                diagnostics.Add(Diagnostic.At(source, $"Handlebars: {e.Message.ReplaceLineEndings(" ")}"));
            }
        }

        if (files.ContainsKey(ZoneHeaderPath))
        {
            diagnostics.Add(Diagnostic.At(Path.Combine(templates, ZoneHeaderPath), $"{ZoneHeaderPath} is the zone header, copied from {zoneHeader}: the templates may not hold one"));
        }

        CodegenException.ThrowIfAny(diagnostics, $"the templates in {templates} do not render");
        files[ZoneHeaderPath] = File.ReadAllBytes(zoneHeader);
        return files;
    }

    /// <summary>
    /// A flag the probes do not define would render as false without a word (Handlebars reads a
    /// missing member as falsy): every api.NAME inside {{ }} must name a probe.
    /// </summary>
    private static void CheckApiReferences(string file, string text, KernelProfile profile, List<Diagnostic> diagnostics)
    {
        foreach (Match mustache in Mustache().Matches(text))
        {
            foreach (Match reference in ApiReference().Matches(mustache.Value))
            {
                string name = reference.Groups[1].Value;
                if (!profile.Api.ContainsKey(name))
                {
                    diagnostics.Add(Diagnostic.AtOffset(
                        file,
                        text,
                        mustache.Index + reference.Index,
                        $"api.{name} is not a probe (known: {string.Join(", ", profile.Api.Keys)}); add guest-module-templates/probes/{name}.c or fix the name"));
                }
            }
        }
    }

    /// <summary>Every file below the folder, relative with '/', in ordinal order; editor leftovers (.name, name~) are not part of the module.</summary>
    private static List<string> TemplateFiles(string templates) =>
        Directory.EnumerateFiles(templates, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(templates, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(path => !path.Split('/').Any(part => part.StartsWith('.') || part.EndsWith('~')))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static void PrepareOutput(string output)
    {
        if (!Directory.Exists(output))
        {
            Directory.CreateDirectory(output);
            return;
        }

        if (!Directory.EnumerateFileSystemEntries(output).Any())
        {
            return;
        }

        if (!File.Exists(Path.Combine(output, "Kbuild")))
        {
            throw new CodegenException($"{output} is neither empty nor an earlier render (no Kbuild file): pick a new or empty directory");
        }

        Directory.Delete(output, recursive: true);
        Directory.CreateDirectory(output);
    }

    [GeneratedRegex(@"\{\{.*?\}\}", RegexOptions.Singleline)]
    private static partial Regex Mustache();

    [GeneratedRegex(@"(?<![\w])api\.([A-Za-z_]\w*)")]
    private static partial Regex ApiReference();
}
