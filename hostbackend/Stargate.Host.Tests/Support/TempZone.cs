using Stargate.Host.Zone;

namespace Stargate.Host.Tests.Support;

/// <summary>A zone file in /dev/shm that exists for one test, removed (with any copies) on Dispose.</summary>
public sealed class TempZone : IDisposable
{
    private readonly List<string> _extra = [];

    public TempZone(ulong size = 64UL << 20, bool format = true)
    {
        Path = $"/dev/shm/stargate-test-{Environment.ProcessId}-{Guid.NewGuid():N}.zone";
        Size = size;
        if (format)
        {
            Zone.Zone.Format(Path, size);
        }
    }

    public string Path { get; }

    public ulong Size { get; }

    public Zone.Zone Open(ZoneAccess access = ZoneAccess.ReadWrite) => Zone.Zone.Open(Path, access, "stargate test");

    /// <summary>A scratch file path next to the zone, removed on Dispose.</summary>
    public string Scratch(string name)
    {
        string path = $"{Path}.{name}";
        _extra.Add(path);
        return path;
    }

    public void Dispose()
    {
        foreach (string path in _extra.Append(Path))
        {
            File.Delete(path);
        }
    }
}
