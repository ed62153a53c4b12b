using System.Text;
using Scriban;
using Scriban.Runtime;
using Scriban.Parsing;
using Scriban.Syntax;
using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Probes;

namespace Stargate.Codegen.Rendering;

/// <summary>
/// The module's source tree, as Kbuild builds it and the DKMS tree carries it:
/// <code>
/// NAME.c, NAME.h, Makefile, ...   guest-module-templates/stargatefs/ as it is (plain C)
/// Kbuild, dkms.conf               NAME.sbn there, rendered with Scriban
/// probes/                         guest-module-templates/probes/: the probes, probes.list, configure.sh
/// include/stargate_zone.h         the zone header
/// stargatefs_config.h             one kernel's configuration header (a build's tree only: DKMS writes its own)
/// </code>
/// Templates see only <c>module</c>: <c>{ name: "stargatefs", version: "0.4.0", objects: "dir.o file.o ..." }</c>
/// (every NAME.c of the folder, sorted, so that a new C file needs no Kbuild edit). Nothing of a
/// kernel: the tree is the same for every kernel, and its configure step finds what differs.
/// A name a template does not know is an error at its file, line and column. The same inputs
/// give the same bytes: sorted traversal, LF line ends, no built-in functions (no clock).
/// </summary>
internal static class ModuleTree
{
    public const string TemplateSuffix = ".sbn";
    public const string ZoneHeaderPath = "include/stargate_zone.h";
    public const string ProbesPath = "probes";

    /// <summary>The tree for every kernel (the DKMS tree): relative path (with '/') to bytes, in ordinal order. Every problem is collected and reported together.</summary>
    public static SortedDictionary<string, byte[]> Sources(TemplateFolders folders, string zoneHeader)
    {
        string templates = folders.Module;
        if (!Directory.Exists(templates))
        {
            throw new CodegenException($"{templates}: no such directory (the module's sources; pass --templates)");
        }

        if (!File.Exists(zoneHeader))
        {
            throw new CodegenException($"{zoneHeader}: no such file (the zone header; pass --zone-header)");
        }

        if (!Directory.Exists(folders.Probes))
        {
            throw new CodegenException($"{folders.Probes}: no such directory (the probes and configure.sh; pass --templates)");
        }

        var sources = FilesBelow(templates);
        var objects = sources
            .Where(path => !path.Contains('/', StringComparison.Ordinal) && path.EndsWith(".c", StringComparison.Ordinal))
            .Select(path => path[..^2] + ".o")
            .ToList();

        var diagnostics = new List<Diagnostic>();
        if (objects.Count == 0)
        {
            diagnostics.Add(Diagnostic.At(templates, $"no C sources (NAME.c): {ModuleInfo.Name} would be empty"));
        }

        if (objects.Contains(ModuleInfo.Name + ".o"))
        {
            diagnostics.Add(Diagnostic.At(Path.Combine(templates, ModuleInfo.Name + ".c"), $"a C file may not be named after the module ({ModuleInfo.Name}): Kbuild links {ModuleInfo.Name}.o from the others"));
        }

        var model = new ScriptObject
        {
            ["module"] = new ScriptObject
            {
                ["name"] = ModuleInfo.Name,
                ["version"] = ModuleInfo.Version,
                ["objects"] = string.Join(' ', objects),
            },
        };
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in sources)
        {
            string source = Path.Combine(templates, path);
            string rendersTo = path.EndsWith(TemplateSuffix, StringComparison.Ordinal) ? path[..^TemplateSuffix.Length] : path;
            if (rendersTo != path && (rendersTo.EndsWith(".c", StringComparison.Ordinal) || rendersTo.EndsWith(".h", StringComparison.Ordinal)))
            {
                diagnostics.Add(Diagnostic.At(source, "the module's C is plain C, not a template: what differs between kernels goes in compat.h, behind a probe's STARGATEFS_HAVE_ define"));
                continue;
            }

            if (rendersTo != path && sources.Contains(rendersTo))
            {
                diagnostics.Add(Diagnostic.At(source, $"renders to {rendersTo}, which is a file of the folder too: keep one"));
                continue;
            }

            if (rendersTo == ZoneHeaderPath || rendersTo == ProbeScript.ConfigHeader || rendersTo.StartsWith(ProbesPath + "/", StringComparison.Ordinal))
            {
                diagnostics.Add(Diagnostic.At(source, $"{rendersTo} is written by codegen (the zone header, the configuration header, the probes): the folder may not hold one"));
                continue;
            }

            files[rendersTo] = rendersTo == path ? File.ReadAllBytes(source) : Render(source, model, diagnostics);
        }

        CodegenException.ThrowIfAny(diagnostics, $"the module's sources in {templates} do not render");
        files[ZoneHeaderPath] = File.ReadAllBytes(zoneHeader);
        foreach (var path in FilesBelow(folders.Probes))
        {
            files[ProbesPath + "/" + path] = File.ReadAllBytes(Path.Combine(folders.Probes, path));
        }

        return files;
    }

    /// <summary>The tree Kbuild builds for one kernel: <see cref="Sources"/> and the configuration header of its profile.</summary>
    public static SortedDictionary<string, byte[]> ForKernel(TemplateFolders folders, string zoneHeader, KernelProfile profile)
    {
        var files = Sources(folders, zoneHeader);
        files[ProbeScript.ConfigHeader] = ProbeScript.Configure(profile.Api, folders.Probes);
        return files;
    }

    /// <summary>
    /// Writes a tree into <paramref name="output"/>, which must be new, empty, or an earlier
    /// tree (it has a Kbuild file): its old contents are removed. Returns the files written,
    /// relative, sorted.
    /// </summary>
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

    private static byte[] Render(string source, ScriptObject model, List<Diagnostic> diagnostics)
    {
        string text = File.ReadAllText(source).ReplaceLineEndings("\n");
        var template = Template.Parse(text, source);
        if (template.HasErrors)
        {
            diagnostics.AddRange(template.Messages.Select(m => At(source, m.Span, $"Scriban: {m.Message}")));
            return [];
        }

        // No built-ins (date.now would put the clock in the output); strict: a name the model
        // does not have, or a member of one, is an error rather than an empty string.
        var context = new TemplateContext(new ScriptObject())
        {
            StrictVariables = true,
            EnableRelaxedMemberAccess = false,
            NewLine = "\n",
        };
        context.PushGlobal(model);
        try
        {
            return new UTF8Encoding(false).GetBytes(template.Render(context).ReplaceLineEndings("\n"));
        }
        catch (ScriptRuntimeException e)
        {
            diagnostics.Add(At(source, e.Span, $"Scriban: {e.OriginalMessage}"));
            return [];
        }
    }

    /// <summary>Scriban's spans count from 0.</summary>
    private static Diagnostic At(string file, SourceSpan span, string message) =>
        new(file, span.Start.Line + 1, span.Start.Column + 1, message);

    /// <summary>Every file below a folder, relative with '/', in ordinal order; editor leftovers (.name, name~) are not part of the module.</summary>
    private static List<string> FilesBelow(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'))
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
}
