using System.Globalization;
using System.Text.RegularExpressions;
using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kbuild;
using Stargate.Codegen.Kernel;

namespace Stargate.Codegen.Probes;

/// <summary>What probing one kernel found: every probe's result, and a line for each optional API it lacks.</summary>
internal sealed record ProbeOutcome(IReadOnlyDictionary<string, bool> Results, IReadOnlyList<string> Notes);

/// <summary>
/// guest-module-templates/probes/configure.sh, the one implementation of probing: it compiles
/// the probes against a kernel, checks probes.list (allof, oneof, optional) and writes the
/// configuration header compat.h reads. The DKMS tree runs the same script in the guest, so
/// the header codegen writes and the one DKMS writes are the same by construction. Codegen
/// reads its results ("NAME yes|no" lines) and relays its diagnostics and notes.
/// </summary>
internal static partial class ProbeScript
{
    public const string FileName = "configure.sh";

    /// <summary>The configuration header, at the top of the module's tree.</summary>
    public const string ConfigHeader = "stargatefs_config.h";

    private const string Prefix = FileName + ": ";

    /// <summary>The probe names of a probes folder (NAME.c), sorted: what a profile's api must hold.</summary>
    public static IReadOnlyList<string> Names(string probes) =>
        Directory.Exists(probes)
            ? Directory.GetFiles(probes, "*.c").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : throw new CodegenException($"{probes}: no such directory (the probes live in guest-module-templates/probes; pass --templates)");

    /// <summary>Probes a kernel. Fails with a diagnostic per API the module needs and the kernel lacks.</summary>
    public static ProbeOutcome Probe(KernelHeaders headers, string probes)
    {
        using var scratch = new Scratch();
        string results = scratch.Combine("results");
        string log = Path.Combine(Path.GetTempPath(), $"stargate-probes-{headers.Release}.log");
        var run = Run(probes, ["-o", scratch.Combine(ConfigHeader), "-r", results, "-l", log, headers.Directory]);
        var notes = run.Lines.Where(line => line.StartsWith(Prefix, StringComparison.Ordinal)).Select(line => line[Prefix.Length..]).ToList();
        return new ProbeOutcome(ReadResults(results), notes);
    }

    /// <summary>The configuration header for recorded results, as configure.sh writes it for a kernel that gave them.</summary>
    public static byte[] Configure(IReadOnlyDictionary<string, bool> results, string probes)
    {
        using var scratch = new Scratch();
        string input = scratch.Combine("results");
        File.WriteAllLines(input, results.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {(r.Value ? "yes" : "no")}"));
        string header = scratch.Combine(ConfigHeader);
        Run(probes, ["-o", header, "-f", input]);
        return File.ReadAllBytes(header);
    }

    private static ToolResult Run(string probes, IEnumerable<string> arguments)
    {
        string script = Path.Combine(probes, FileName);
        if (!File.Exists(script))
        {
            throw new CodegenException($"{script}: no such file (the probes' configure script; pass --templates)");
        }

        var run = ExternalTool.Run("sh", [script, .. arguments], Make.InstallHint);
        if (run.ExitCode == 0)
        {
            return run;
        }

        // configure.sh's failures end with one line saying what failed, after its diagnostics.
        var lines = run.Lines;
        if (run.ExitCode == 1 && lines.Count > 0 && lines[^1].StartsWith(Prefix, StringComparison.Ordinal))
        {
            var diagnostics = new List<Diagnostic>();
            var other = new List<string>();
            foreach (var line in lines.Take(lines.Count - 1))
            {
                var match = DiagnosticLine().Match(line);
                if (match.Success)
                {
                    diagnostics.Add(new Diagnostic(
                        match.Groups[1].Value,
                        int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
                        int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture),
                        match.Groups[4].Value));
                }
                else
                {
                    other.Add(line);
                }
            }

            throw new CodegenException(lines[^1][Prefix.Length..], diagnostics, other.Count > 0 ? string.Join('\n', other) : null);
        }

        throw new CodegenException($"{script} failed (exit {run.ExitCode}; its output is above)", detail: run.Output);
    }

    private static SortedDictionary<string, bool> ReadResults(string file)
    {
        var results = new SortedDictionary<string, bool>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(file))
        {
            var parts = line.Split(' ');
            results[parts[0]] = parts[1] == "yes";
        }

        return results;
    }

    [GeneratedRegex(@"^(.+)\((\d+),(\d+)\): error: (.*)$")]
    private static partial Regex DiagnosticLine();

    /// <summary>A scratch directory for one run's files, removed afterwards.</summary>
    private sealed class Scratch : IDisposable
    {
        private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("stargate-configure-");

        public string Combine(string name) => Path.Combine(directory.FullName, name);

        public void Dispose() => directory.Delete(recursive: true);
    }
}
