using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Stargate.Codegen.Diagnostics;

namespace Stargate.Codegen.Kernel;

/// <summary>
/// What codegen knows about one kernel: its identity and, for every probe, whether the kernel
/// has that API (probes/configure.sh writes the configuration header from the latter). Stored
/// as profile.json:
/// <code>
/// { "release": "6.1.0-56-amd64", "version": "6.1.192", "major": 6, "minor": 1, "line": "6.1",
///   "api": { "alloc_dax_ops": true, ... } }   // api sorted by name
/// </code>
/// </summary>
internal sealed record KernelProfile(string Release, string Version, int Major, int Minor, IReadOnlyDictionary<string, bool> Api)
{
    /// <summary>The API flags, sorted by name whatever order they were given in.</summary>
    public IReadOnlyDictionary<string, bool> Api { get; init; } = Sorted(Api);

    /// <summary>The stable line a module built for this kernel is good for ("6.1"): the API flags hold within it.</summary>
    public string Line => $"{Major}.{Minor}";

    public static KernelProfile Create(KernelHeaders headers, IReadOnlyDictionary<string, bool> api) =>
        new(headers.Release, $"{headers.Major}.{headers.Minor}.{headers.Sublevel}", headers.Major, headers.Minor, Sorted(api));

    /// <summary>The profile as JSON: indented, LF, keys in a fixed order, api sorted: the same profile gives the same bytes.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("release", Release);
            json.WriteString("version", Version);
            json.WriteNumber("major", Major);
            json.WriteNumber("minor", Minor);
            json.WriteString("line", Line);
            json.WriteStartObject("api");
            foreach (var (name, present) in Api)
            {
                json.WriteBoolean(name, present);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Reads a profile.json, or fails with a line naming the file and what is wrong in it.</summary>
    public static KernelProfile Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new CodegenException($"--profile {path}: no such file (write one with `stargate-codegen probe --headers DIR > profile.json`)");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            var api = new Dictionary<string, bool>();
            foreach (var flag in root.GetProperty("api").EnumerateObject())
            {
                api[flag.Name] = flag.Value.GetBoolean();
            }

            var profile = new KernelProfile(
                root.GetProperty("release").GetString() ?? throw new InvalidOperationException("release is null"),
                root.GetProperty("version").GetString() ?? throw new InvalidOperationException("version is null"),
                root.GetProperty("major").GetInt32(),
                root.GetProperty("minor").GetInt32(),
                Sorted(api));
            if (profile.Release.Length == 0 || profile.Release.Contains('/', StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"release '{profile.Release}' is not a kernel release");
            }

            return profile;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CodegenException($"{path}: not a kernel profile ({e.Message}); write one with `stargate-codegen probe --headers DIR`");
        }
    }

    /// <summary>A recorded profile must know exactly today's probes: one that does not was recorded before they changed.</summary>
    public List<Diagnostic> CheckAgainst(IReadOnlyList<string> probes, string file)
    {
        var names = probes.ToHashSet(StringComparer.Ordinal);
        var diagnostics = probes.Where(name => !Api.ContainsKey(name))
            .Select(name => Diagnostic.At(file, $"the profile has no api.{name}: it was recorded before that probe existed; probe the kernel again"))
            .ToList();
        diagnostics.AddRange(Api.Keys.Where(name => !names.Contains(name))
            .Select(name => Diagnostic.At(file, $"api.{name} is not a probe any more: probe the kernel again")));
        return diagnostics;
    }

    private static SortedDictionary<string, bool> Sorted(IReadOnlyDictionary<string, bool> api) =>
        new(api.ToDictionary(), StringComparer.Ordinal);
}
