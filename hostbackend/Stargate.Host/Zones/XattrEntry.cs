using System.Text;

namespace Stargate.Host.Zones;

/// <summary>One extended attribute: its namespace (SGZ_XATTR_*), its name after the namespace's prefix, and its value.</summary>
public sealed record XattrEntry(int Index, byte[] Name, byte[] Value)
{
    /// <summary>The full name, prefix included ("user.comment").</summary>
    public string FullName => XattrBlock.Prefix(Index) + Encoding.UTF8.GetString(Name);

    /// <summary>Bytes the entry takes in a block: header, name and value, padded to 4.</summary>
    public int Size => XattrBlock.EntrySize(Name.Length, Value.Length);
}
