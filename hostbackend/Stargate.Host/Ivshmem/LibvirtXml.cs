using System.Globalization;
using System.Xml.Linq;
using Stargate.Host.Zones;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The libvirt &lt;shmem&gt; element for a zone (libvirt 9.0 rules, from its code):
/// ivshmem-plain always maps /dev/shm/NAME, so the zone must be that file;
/// ivshmem-doorbell needs &lt;server path&gt; and is refused if it has a &lt;size&gt;;
/// libvirt starts no server, so `stargate serve` must already listen.
/// </summary>
public static class LibvirtXml
{
    public static XElement Shmem(string zonePath, ulong zoneSize, string name, AttachMode mode, string? socket, int vectors)
    {
        ServerLimits.CheckVectors(vectors);
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"--name '{name}' cannot be a shared memory name (no '/', not empty)");
        }

        if (mode == AttachMode.Plain)
        {
            string expected = "/dev/shm/" + name;
            if (Path.GetFullPath(zonePath) != expected)
            {
                throw new ZoneException(ZoneError.InvalidArgument,
                    $"libvirt's ivshmem-plain maps {expected}, but the zone is {Path.GetFullPath(zonePath)}: create the zone there, or use --name {Path.GetFileName(zonePath)} for a zone in /dev/shm (or --mode doorbell, which takes any path)");
            }

            if (zoneSize < 1UL << 20)
            {
                throw new ZoneException(ZoneError.InvalidArgument, "libvirt needs a shared memory of at least 1 MiB");
            }

            return new XElement("shmem",
                new XAttribute("name", name),
                new XElement("model", new XAttribute("type", "ivshmem-plain")),
                new XElement("size", new XAttribute("unit", "M"), (zoneSize >> 20).ToString(CultureInfo.InvariantCulture)));
        }

        return new XElement("shmem",
            new XAttribute("name", name),
            new XElement("model", new XAttribute("type", "ivshmem-doorbell")),
            new XElement("server", new XAttribute("path", socket ?? throw new ArgumentNullException(nameof(socket), "the doorbell mode needs the server's socket"))),
            new XElement("msi", new XAttribute("vectors", vectors), new XAttribute("ioeventfd", "on")));
    }

    /// <summary>Adds the element to a domain's &lt;devices&gt; (replacing a &lt;shmem&gt; of the same name).</summary>
    public static XDocument InsertInto(XDocument domain, XElement shmem)
    {
        var root = domain.Root;
        if (root is null || root.Name != "domain")
        {
            throw new ZoneException(ZoneError.InvalidArgument, "the domain file's root element is not <domain>");
        }

        var devices = root.Element("devices");
        if (devices is null)
        {
            devices = new XElement("devices");
            root.Add(devices);
        }

        devices.Elements("shmem").Where(e => (string?)e.Attribute("name") == (string?)shmem.Attribute("name")).Remove();
        devices.Add(shmem);
        return domain;
    }
}
