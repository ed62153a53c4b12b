namespace Stargate.Interop.Generator;

/// <summary>Finds the repository root: the nearest folder upwards that holds global.json.</summary>
public static class RepoPaths
{
    public const string Marker = "global.json";

    /// <summary>The root above <paramref name="start"/> (a file or folder), or null outside the repository.</summary>
    public static string? FindRoot(string start)
    {
        for (DirectoryInfo? folder = new(Path.GetFullPath(start)); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, Marker)))
            {
                return folder.FullName;
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="path"/> relative to the repository root with '/' separators, as the
    /// generated banner shows it; the file name alone when it is outside the repository.
    /// </summary>
    public static string Display(string path)
    {
        string full = Path.GetFullPath(path);
        string? root = FindRoot(Path.GetDirectoryName(full)!);
        string shown = root is null ? Path.GetFileName(full) : Path.GetRelativePath(root, full);
        return shown.Replace(Path.DirectorySeparatorChar, '/');
    }
}
