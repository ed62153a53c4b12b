using Stargate.Host.Rpc;

namespace Stargate.Host.Service;

/// <summary>
/// One ivshmem socket of `stargate serve` and the export policy of every guest that connects
/// through it (docs/cli.md "serve", docs/security.md "Export policy").
/// </summary>
public sealed record ExportSocket(string Path, ExportPolicy Policy)
{
    /// <summary>
    /// `PATH[,OPTION]...` with options rw (the default), ro, root_squash and no_root_squash,
    /// as an NFS export line spells them; a later option wins over an earlier one. A path
    /// holding a comma cannot be given this way.
    /// </summary>
    public static ExportSocket Parse(string text)
    {
        string[] parts = text.Split(',');
        if (parts[0].Length == 0)
        {
            throw new ArgumentException($"--socket {text}: no path before the options (PATH[,ro][,root_squash])");
        }

        var policy = ExportPolicy.ReadWrite;
        foreach (string option in parts.Skip(1))
        {
            policy = option switch
            {
                "ro" => policy with { ReadOnly = true },
                "rw" => policy with { ReadOnly = false },
                "root_squash" => policy with { RootSquash = true },
                "no_root_squash" => policy with { RootSquash = false },
                _ => throw new ArgumentException($"--socket {text}: unknown option '{option}' (known: rw, ro, root_squash, no_root_squash)"),
            };
        }

        return new ExportSocket(parts[0], policy);
    }

    public override string ToString() => $"{Path},{Policy}";
}
