namespace Stargate.Host.Zones;

/// <summary>The files of a zone (format 2): the structure file Z, and Z.data beside it.</summary>
public static class ZoneFiles
{
    /// <summary>The path of the data file of the zone whose structure file is <paramref name="zonePath"/>.</summary>
    public static string DataPath(string zonePath) => zonePath + ".data";
}
