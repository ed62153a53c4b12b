namespace Stargate.Host.Zones;

/// <summary>The two files of a zone: the structure file Z (the zone's path) and the data file Z.data.</summary>
public static class ZoneFiles
{
    /// <summary>The data file of the zone whose structure file is <paramref name="zonePath"/>.</summary>
    public static string DataPath(string zonePath) => zonePath + ".data";
}
