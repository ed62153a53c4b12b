namespace Stargate.Host.Fsck;

/// <summary>What fsck found (problems), did (repairs) and noticed (notes), in the order it met them.</summary>
public sealed class FsckReport(string path)
{
    public string Path { get; } = path;

    public List<string> Problems { get; } = [];

    public List<string> Repairs { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>Problems still there after repair (empty when fsck did not repair or repaired all).</summary>
    public List<string> Remaining { get; } = [];

    public bool Repaired { get; set; }

    public IEnumerable<string> Lines()
    {
        foreach (string note in Notes)
        {
            yield return $"note: {note}";
        }

        foreach (string problem in Problems)
        {
            yield return $"problem: {problem}";
        }

        foreach (string repair in Repairs)
        {
            yield return $"repaired: {repair}";
        }

        foreach (string problem in Remaining)
        {
            yield return $"still wrong: {problem}";
        }

        yield return Problems.Count == 0
            ? $"{Path}: clean"
            : Repaired && Remaining.Count == 0
                ? $"{Path}: {Problems.Count} problem(s) found and repaired"
                : $"{Path}: {Problems.Count} problem(s) found{(Repaired ? $", {Remaining.Count} not repaired" : "; run 'stargate zone fsck --repair' to fix them")}";
    }
}
