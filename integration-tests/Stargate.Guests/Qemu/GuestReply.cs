namespace Stargate.Guests.Qemu;

/// <summary>What one command run in a guest printed, and its exit status.</summary>
public sealed record GuestReply(string Command, int ExitCode, IReadOnlyList<string> Lines)
{
    /// <summary>
    /// The value of the first "KEY=VALUE" word on any line (sgtool prints space-separated
    /// key=value words); throws, naming the output, when there is none.
    /// </summary>
    public string this[string key] => Find(key) ?? throw new KeyNotFoundException($"'{Command}' printed no {key}=...; it printed:\n{string.Join('\n', Lines)}");

    public string? Find(string key) =>
        Lines.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(w => w.StartsWith(key + "=", StringComparison.Ordinal))
            .Select(w => w[(key.Length + 1)..])
            .FirstOrDefault();

    /// <summary>The lines that hold KEY=..., one dictionary of their words each (sgtool list: one per device).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Records(string key) =>
        Lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Any(w => w.StartsWith(key + "=", StringComparison.Ordinal)))
            .Select(words => (IReadOnlyDictionary<string, string>)words
                .Where(w => w.Contains('=', StringComparison.Ordinal))
                .Select(w => w.Split('=', 2))
                .GroupBy(kv => kv[0])
                .ToDictionary(g => g.Key, g => g.First()[1]))
            .ToList();

    /// <summary>The whole output, its lines joined with newlines (no trailing one).</summary>
    public string Text => string.Join('\n', Lines);

    public override string ToString() => $"'{Command}' exited {ExitCode}:\n{string.Join('\n', Lines)}";
}
