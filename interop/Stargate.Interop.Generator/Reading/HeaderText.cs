using System.Text;

namespace Stargate.Interop.Generator.Reading;

/// <summary>The header's bytes (libclang offsets are byte offsets) and its lines.</summary>
internal sealed class HeaderText
{
    private readonly byte[] bytes;

    private HeaderText(byte[] bytes)
    {
        this.bytes = bytes;
        Lines = Encoding.UTF8.GetString(bytes).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
    }

    /// <summary>The lines, without their line ends; line n of libclang is Lines[n - 1].</summary>
    public IReadOnlyList<string> Lines { get; }

    public static HeaderText Read(string path) => new(File.ReadAllBytes(path));

    public string Slice(int start, int end) => Encoding.UTF8.GetString(bytes, start, end - start);
}
