using System.CommandLine;
using System.Xml;
using System.Xml.Linq;
using Stargate.Host.Ivshmem;
using Stargate.Host.Zones;

namespace Stargate.Host.Cli;

/// <summary>`stargate qemu-args` and `stargate libvirt-xml`: how to attach a zone to a guest.</summary>
internal sealed class QemuCommands(CliSession session)
{
    public IEnumerable<Command> Create() => [QemuArgs(), Libvirt()];

    private static Option<AttachMode> ModeOption() => new("--mode")
    {
        Description = "plain: ivshmem-plain on the zone's data file (no service: the guest mounts read-only); doorbell: ivshmem-doorbell through `stargate serve`. Either way the structure file is added read-only.",
        Required = true,
        CustomParser = r => r.Tokens[0].Value switch
        {
            "plain" => AttachMode.Plain,
            "doorbell" => AttachMode.Doorbell,
            var other => Invalid(r, other),
        },
    };

    private static AttachMode Invalid(System.CommandLine.Parsing.ArgumentResult r, string value)
    {
        r.AddError($"--mode '{value}' is neither plain nor doorbell");
        return AttachMode.Plain;
    }

    private static Option<bool> ReadOnlyOption() =>
        new("--read-only") { Description = "Map the data file read-only too (QEMU drops the guest's stores): for a guest of a `serve --socket PATH,ro` socket, or a plain guest that must only read." };

    private static Option<int> VectorsOption() =>
        new("--vectors") { Description = "Interrupt vectors (doorbell; must match `stargate serve --vectors`).", DefaultValueFactory = _ => ServerLimits.DefaultVectors };

    private Command QemuArgs()
    {
        var zoneArg = new Argument<string>("zone") { Description = "Zone file." };
        var mode = ModeOption();
        var socket = new Option<string?>("--socket") { Description = "The socket of `stargate serve` (doorbell)." };
        var vectors = VectorsOption();
        var id = new Option<string>("--id") { Description = "QEMU object id.", DefaultValueFactory = _ => "stargate0" };
        var readOnly = ReadOnlyOption();
        var command = new Command("qemu-args", "Print the QEMU arguments that attach the zone to a guest.") { zoneArg, mode, socket, vectors, id, readOnly };
        command.SetAction(r => session.Guard(() =>
        {
            var m = r.GetValue(mode);
            if (m == AttachMode.Doorbell && r.GetValue(socket) is null)
            {
                return session.BadUsage("--mode doorbell needs --socket (the path `stargate serve --socket` listens on)", "qemu-args");
            }

            if (r.GetValue(vectors) is < 1 or > ServerLimits.MaxVectors)
            {
                return session.BadUsage($"--vectors must be 1..{ServerLimits.MaxVectors}", "qemu-args");
            }

            string zone = Path.GetFullPath(r.GetValue(zoneArg)!);
            string? sock = r.GetValue(socket) is { } s ? Path.GetFullPath(s) : null;
            session.Out.WriteLine(QemuArguments.ShellLine(QemuArguments.For(QemuArguments.Sizes(zone), m, sock, r.GetValue(vectors), r.GetValue(id)!, r.GetValue(readOnly))));
            return StargateCli.Ok;
        }));
        return command;
    }

    private Command Libvirt()
    {
        var zoneArg = new Argument<string>("zone") { Description = "Zone file." };
        var name = new Option<string>("--name") { Description = "The <shmem> name (plain: the zone's data file must be /dev/shm/NAME).", Required = true };
        var mode = ModeOption();
        var socket = new Option<string?>("--socket") { Description = "The socket of `stargate serve` (doorbell)." };
        var vectors = VectorsOption();
        var domain = new Option<string?>("--domain") { Description = "A domain XML file: print it with the <shmem> element added to <devices>." };
        var readOnly = ReadOnlyOption();
        var command = new Command("libvirt-xml", "Print the libvirt <shmem> element and <qemu:commandline> for the zone, or a domain XML with them inserted.") { zoneArg, name, mode, socket, vectors, domain, readOnly };
        command.SetAction(r => session.Guard(() =>
        {
            var m = r.GetValue(mode);
            if (m == AttachMode.Doorbell && r.GetValue(socket) is null)
            {
                return session.BadUsage("--mode doorbell needs --socket (the path `stargate serve --socket` listens on)", "libvirt-xml");
            }

            string zone = Path.GetFullPath(r.GetValue(zoneArg)!);
            string? sock = r.GetValue(socket) is { } s ? Path.GetFullPath(s) : null;
            var devices = LibvirtXml.Devices(QemuArguments.Sizes(zone), r.GetValue(name)!, m, sock, r.GetValue(vectors), r.GetValue(readOnly));
            if (r.GetValue(domain) is not { } file)
            {
                session.Out.WriteLine(devices.ToString());
                return StargateCli.Ok;
            }

            XDocument document;
            try
            {
                document = XDocument.Load(file);
            }
            catch (XmlException e)
            {
                return session.Fail($"{file}: not a readable domain XML: {e.Message}");
            }
            catch (FileNotFoundException)
            {
                return session.Fail($"{file}: no such file");
            }

            session.Out.WriteLine(LibvirtXml.InsertInto(document, devices).ToString());
            return StargateCli.Ok;
        }));
        return command;
    }
}
