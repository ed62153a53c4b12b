using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Support;

/// <summary>A zone (its two files) in /dev/shm that exists for one test, removed (with any copies) on Dispose.</summary>
public sealed class TempZone : IDisposable
{
    private const string Prefix = "stargate-test-";
    private readonly List<string> _extra = [];

    /// <summary>Removes the zones of test runs that were killed before they could clean up.</summary>
    static TempZone()
    {
        foreach (string path in Directory.EnumerateFiles("/dev/shm", Prefix + "*"))
        {
            string[] parts = System.IO.Path.GetFileName(path)[Prefix.Length..].Split('-');
            if (int.TryParse(parts[0], out int pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                File.Delete(path);
            }
        }
    }

    public TempZone(ulong size = 64UL << 20, bool format = true)
    {
        Path = $"/dev/shm/{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}.zone";
        Size = size;
        if (format)
        {
            Zone.Format(Path, size);
        }
    }

    public string Path { get; }

    /// <summary>The size the zone was made with: its data file's.</summary>
    public ulong Size { get; }

    /// <summary>The zone's data file.</summary>
    public string DataPath => ZoneFiles.DataPath(Path);

    public Zone Open(ZoneAccess access = ZoneAccess.ReadWrite) => Zone.Open(Path, access, "stargate test");

    /// <summary>A scratch file path next to the zone, removed on Dispose.</summary>
    public string Scratch(string name)
    {
        string path = $"{Path}.{name}";
        _extra.Add(path);
        return path;
    }

    /// <summary>Copies the zone's two files to <paramref name="target"/> and its data file (both removed on Dispose).</summary>
    public void CopyTo(string target)
    {
        File.Copy(Path, target, overwrite: true);
        File.Copy(DataPath, ZoneFiles.DataPath(target), overwrite: true);
        if (!_extra.Contains(ZoneFiles.DataPath(target)))
        {
            _extra.Add(ZoneFiles.DataPath(target));
        }
    }

    public void Dispose()
    {
        foreach (string path in _extra.Append(Path).Append(DataPath))
        {
            File.Delete(path);
        }
    }
}
