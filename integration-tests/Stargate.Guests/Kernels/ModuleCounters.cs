using System.Globalization;

namespace Stargate.Guests.Kernels;

/// <summary>
/// The request counters stargatefs keeps per area device (sysfs stargatefs_requests, lines of
/// "requests=N polled=N ... poll_ns=N", docs/requests.md "Polling"), read in a guest by the
/// tests and by the benchmark.
/// </summary>
public static class ModuleCounters
{
    /// <summary>The shell glob of every bound area device's counters file.</summary>
    public const string Files = "/sys/bus/pci/drivers/stargatefs/*/stargatefs_requests";

    /// <summary>
    /// The counters of the device that sent the most requests (the mounted zone's; other
    /// devices print only zeros), from the lines `cat` of <see cref="Files"/> printed; null when
    /// no line holds counters.
    /// </summary>
    public static Dictionary<string, long>? Busiest(IEnumerable<string> lines) =>
        lines.Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Split('=', 2)).Where(kv => kv.Length == 2)
                .ToDictionary(kv => kv[0], kv => long.Parse(kv[1], CultureInfo.InvariantCulture)))
            .Where(d => d.ContainsKey("requests"))
            .MaxBy(d => d["requests"]);
}
