using System.Globalization;
using System.Xml.Linq;
using Stargate.Host.Zones;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The libvirt elements that attach a zone (libvirt 9.0 rules, from its code). The data device
/// is a &lt;shmem&gt;: ivshmem-plain always maps /dev/shm/NAME, so the data file must be that
/// file; ivshmem-doorbell needs &lt;server path&gt; and is refused if it has a &lt;size&gt;, and
/// libvirt starts no server, so `stargate serve` must already listen. libvirt's &lt;shmem&gt;
/// cannot say readonly, so the structure device (read-only ivshmem-plain over Z) is passed
/// through &lt;qemu:commandline&gt;, as the same arguments `stargate qemu-args` prints; in
/// doorbell mode the &lt;shmem&gt; is the doorbell device (the guest's private area) and the
/// data device goes there too (any path, readonly=on for a read-only export).
/// </summary>
public static class LibvirtXml
{
    public static readonly XNamespace Qemu = "http://libvirt.org/schemas/domain/qemu/1.0";

    public static LibvirtDevices Devices(ZoneSizes zone, string name, AttachMode mode, string? socket, int vectors, bool readOnly = false)
    {
        ServerLimits.CheckVectors(vectors);
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ZoneException(ZoneError.InvalidArgument, $"--name '{name}' cannot be a shared memory name (no '/', not empty)");
        }

        if (mode == AttachMode.Plain)
        {
            if (readOnly)
            {
                throw new ZoneException(ZoneError.InvalidArgument,
                    "libvirt's <shmem> cannot map a file read-only: a read-only guest needs --mode doorbell (its data device then goes in <qemu:commandline>)");
            }

            string expected = "/dev/shm/" + name;
            string data = Path.GetFullPath(ZoneFiles.DataPath(zone.Path));
            if (data != expected)
            {
                throw new ZoneException(ZoneError.InvalidArgument,
                    $"libvirt's ivshmem-plain maps {expected}, but the zone's data file is {data}: create the zone in /dev/shm and pass --name {Path.GetFileName(data)} (or use --mode doorbell, which takes any path)");
            }

            return new LibvirtDevices(
                new XElement("shmem",
                    new XAttribute("name", name),
                    new XElement("model", new XAttribute("type", "ivshmem-plain")),
                    new XElement("size", new XAttribute("unit", "M"), (zone.DataFileSize >> 20).ToString(CultureInfo.InvariantCulture))),
                Commandline(QemuArguments.StructureDevice(zone, name)));
        }

        return new LibvirtDevices(
            new XElement("shmem",
                new XAttribute("name", name),
                new XElement("model", new XAttribute("type", "ivshmem-doorbell")),
                new XElement("server", new XAttribute("path", socket ?? throw new ArgumentNullException(nameof(socket), "the doorbell mode needs the server's socket"))),
                new XElement("msi", new XAttribute("vectors", vectors), new XAttribute("ioeventfd", "on"))),
            Commandline([.. QemuArguments.DataDevice(zone, name, readOnly), .. QemuArguments.StructureDevice(zone, name)]));
    }

    /// <summary>
    /// Adds the elements to a domain: the &lt;shmem&gt; to &lt;devices&gt; (replacing one of the
    /// same name), the structure device's arguments to &lt;qemu:commandline&gt; (replacing the
    /// arguments of an earlier insertion for the same name).
    /// </summary>
    public static XDocument InsertInto(XDocument domain, LibvirtDevices devices)
    {
        var root = domain.Root;
        if (root is null || root.Name != "domain")
        {
            throw new ZoneException(ZoneError.InvalidArgument, "the domain file's root element is not <domain>");
        }

        var list = root.Element("devices");
        if (list is null)
        {
            list = new XElement("devices");
            root.Add(list);
        }

        list.Elements("shmem").Where(e => (string?)e.Attribute("name") == (string?)devices.Shmem.Attribute("name")).Remove();
        list.Add(devices.Shmem);

        root.SetAttributeValue(XNamespace.Xmlns + "qemu", Qemu.NamespaceName);
        var ours = Objects(devices.Commandline.Elements(Qemu + "arg").Select(a => (string?)a.Attribute("value")).ToList())
            .Select(at => at.Id).ToHashSet();
        foreach (var existing in root.Elements(Qemu + "commandline").ToList())
        {
            var args = existing.Elements(Qemu + "arg").Select(a => (Element: a, Value: (string?)a.Attribute("value"))).ToList();
            foreach (var (at, _) in Objects(args.ConvertAll(a => a.Value)).Where(o => ours.Contains(o.Id)).Reverse())
            {
                args.GetRange(at, 4).ForEach(a => a.Element.Remove());
            }

            if (!existing.HasElements)
            {
                existing.Remove();
            }
        }

        root.Add(devices.Commandline);
        return domain;
    }

    private static XElement Commandline(IEnumerable<string> args) =>
        new(Qemu + "commandline", args.Select(a => new XElement(Qemu + "arg", new XAttribute("value", a))));

    /// <summary>Where each "-object VALUE -device VALUE" group of a commandline starts, and its object's id.</summary>
    private static IEnumerable<(int At, string Id)> Objects(List<string?> args)
    {
        for (int at = 0; at + 3 < args.Count; at++)
        {
            if (args[at] == "-object" && IdOf(args[at + 1]) is { Length: > 0 } id)
            {
                yield return (at, id);
            }
        }
    }

    /// <summary>The id= part of a -object value (empty if none).</summary>
    private static string IdOf(string? objectValue) =>
        objectValue?.Split(',').FirstOrDefault(p => p.StartsWith("id=", StringComparison.Ordinal)) ?? string.Empty;
}

/// <summary>What a domain needs for one zone: a &lt;shmem&gt; (the data device, or in doorbell mode the doorbell device) and the plain devices' arguments.</summary>
public sealed record LibvirtDevices(XElement Shmem, XElement Commandline)
{
    /// <summary>Both, as printed without --domain.</summary>
    public override string ToString() =>
        Shmem + Environment.NewLine + new XElement(Commandline.Name, new XAttribute(XNamespace.Xmlns + "qemu", LibvirtXml.Qemu.NamespaceName), Commandline.Elements());
}
