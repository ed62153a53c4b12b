using System.Diagnostics;
using System.Xml.Linq;
using Stargate.Host.Ivshmem;
using Stargate.Host.Zones;

namespace Stargate.Host.Tests.Ivshmem;

/// <summary>`stargate serve` as a process, and the commands that tell QEMU and libvirt how to attach.</summary>
public class ServeCommandTests
{
    [Fact]
    public void Serve_OnSigterm_StopsCleanly_RemovingItsSockets_AndClosingTheZone()
    {
        using var zone = new TempZone();
        string socket = zone.Scratch("sock");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "stargate.dll"), "serve", zone.Path, "--socket", socket })
        {
            info.ArgumentList.Add(arg);
        }

        using var serve = Process.Start(info)!;
        try
        {
            string? line = serve.StandardError.ReadLine();
            Assert.Equal($"stargate: serving {zone.Path} on {socket}", line);
            Assert.True(File.Exists(socket) && File.Exists(socket + ".ctl"));
            var busy = StargateProcess.Run("zone", "fsck", zone.Path);
            Assert.Contains("(stargate serve)", busy.Stderr);

            Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            Assert.True(serve.WaitForExit(15_000), "serve did not stop on SIGTERM");
            Assert.Equal(0, serve.ExitCode);
            Assert.False(File.Exists(socket) || File.Exists(socket + ".ctl"), "serve left a socket file behind");
            Assert.Contains("stopped; removed", serve.StandardError.ReadToEnd());
            using var z = zone.Open(ZoneAccess.ReadOnly);
            Assert.True(z.WasClean);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill();
            }
        }
    }

    [Fact]
    public void QemuArgs_Plain_MapsTheDataFileShared_AndTheStructureFileReadOnly()
    {
        using var zone = new TempZone();
        var r = StargateProcess.Run("qemu-args", zone.Path, "--mode", "plain");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(
            $"-object memory-backend-file,id=stargate0,mem-path={zone.Path}.data,size={zone.Size},share=on -device ivshmem-plain,memdev=stargate0 "
            + StructureDevice(zone, "stargate0") + "\n",
            r.Stdout);
    }

    [Fact]
    public void QemuArgs_Doorbell_PointsAtTheServerSocket_WithMatchingVectors()
    {
        using var zone = new TempZone();
        var r = StargateProcess.Run("qemu-args", zone.Path, "--mode", "doorbell", "--socket", "/run/sg,1.sock", "--vectors", "8");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(
            DataDevice(zone, "stargate0", readOnly: false) + " " + StructureDevice(zone, "stargate0")
            + " -chardev socket,path=/run/sg,,1.sock,id=stargate0 -device ivshmem-doorbell,chardev=stargate0,vectors=8\n",
            r.Stdout);
        Assert.Equal(2, StargateProcess.Run("qemu-args", zone.Path, "--mode", "doorbell").ExitCode);
        Assert.Equal(2, StargateProcess.Run("qemu-args", zone.Path, "--mode", "dorbell").ExitCode);
    }

    [Fact]
    public void QemuArgs_ReadOnly_MapsTheDataFileReadOnlyToo_InBothModes()
    {
        using var zone = new TempZone();
        var plain = StargateProcess.Run("qemu-args", zone.Path, "--mode", "plain", "--read-only");
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(DataDevice(zone, "stargate0", readOnly: true) + " " + StructureDevice(zone, "stargate0") + "\n", plain.Stdout);
        var doorbell = StargateProcess.Run("qemu-args", zone.Path, "--mode", "doorbell", "--socket", "/run/sg.sock", "--read-only", "--id", "z1");
        Assert.Equal(0, doorbell.ExitCode);
        Assert.StartsWith(DataDevice(zone, "z1", readOnly: true) + " " + StructureDevice(zone, "z1") + " -chardev socket,path=/run/sg.sock,id=z1 ", doorbell.Stdout);
    }

    [Fact]
    public void LibvirtXml_ReadOnly_PutsTheDataDeviceInTheCommandline_AndIsRefusedForPlain()
    {
        using var zone = new TempZone();
        var plain = StargateProcess.Run("libvirt-xml", zone.Path, "--name", "x", "--mode", "plain", "--read-only");
        Assert.Equal(1, plain.ExitCode);
        Assert.Contains("--mode doorbell", plain.Stderr);
        var r = StargateProcess.Run("libvirt-xml", zone.Path, "--name", "z", "--mode", "doorbell", "--socket", "/run/sg.sock", "--read-only");
        Assert.Equal(0, r.ExitCode);
        var printed = XElement.Parse("<printed>" + r.Stdout + "</printed>");
        var args = printed.Element(LibvirtXml.Qemu + "commandline")!.Elements(LibvirtXml.Qemu + "arg").Select(a => a.Attribute("value")!.Value);
        Assert.Equal(DataDevice(zone, "z", readOnly: true) + " " + StructureDevice(zone, "z"), string.Join(' ', args));
        Assert.Equal("ivshmem-doorbell", printed.Element("shmem")!.Element("model")!.Attribute("type")!.Value);
    }

    [Fact]
    public void LibvirtXml_Plain_RequiresTheDataFileToBeDevShmName_AndAddsTheStructureDevice()
    {
        using var zone = new TempZone();
        string dataName = Path.GetFileName(zone.Path) + ".data";
        var wrong = StargateProcess.Run("libvirt-xml", zone.Path, "--name", Path.GetFileName(zone.Path), "--mode", "plain");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains($"--name {dataName}", wrong.Stderr);
        var right = StargateProcess.Run("libvirt-xml", zone.Path, "--name", dataName, "--mode", "plain");
        Assert.Equal(0, right.ExitCode);
        var printed = XElement.Parse("<printed>" + right.Stdout + "</printed>");
        var shmem = printed.Element("shmem")!;
        Assert.Equal("ivshmem-plain", shmem.Element("model")!.Attribute("type")!.Value);
        Assert.Equal("64", shmem.Element("size")!.Value);
        var args = printed.Element(LibvirtXml.Qemu + "commandline")!.Elements(LibvirtXml.Qemu + "arg").Select(a => a.Attribute("value")!.Value);
        Assert.Equal(StructureDevice(zone, dataName), string.Join(' ', args));
    }

    [SkippableFact]
    public void LibvirtXml_InsertedIntoADomain_PassesVirtXmlValidate_InBothModes()
    {
        Skip.IfNot(File.Exists("/usr/bin/virt-xml-validate"), "virt-xml-validate is missing (Debian's libvirt-clients; build.sh installs it)");
        using var zone = new TempZone();
        string domain = zone.Scratch("domain.xml");
        File.WriteAllText(domain, """
            <domain type='qemu'>
              <name>stargate-test</name>
              <memory unit='MiB'>256</memory>
              <os><type arch='x86_64' machine='pc'>hvm</type></os>
              <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
            </domain>
            """);
        foreach (string[] mode in new[] { new[] { "--mode", "plain" }, ["--mode", "doorbell", "--socket", "/run/stargate.sock"] })
        {
            var r = StargateProcess.Run(["libvirt-xml", zone.Path, "--name", Path.GetFileName(zone.Path) + ".data", .. mode, "--domain", domain]);
            Assert.True(r.ExitCode == 0, r.ToString());
            string full = zone.Scratch($"full-{mode[1]}.xml");
            File.WriteAllText(full, r.Stdout);
            var check = Process.Start(new ProcessStartInfo("virt-xml-validate", [full, "domain"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = check.StandardOutput.ReadToEnd() + check.StandardError.ReadToEnd();
            check.WaitForExit();
            Assert.True(check.ExitCode == 0, $"virt-xml-validate rejected the {mode[1]} domain:\n{output}\n{r.Stdout}");
            var shmem = XDocument.Parse(r.Stdout).Root!.Element("devices")!.Element("shmem")!;
            Assert.Equal(mode[1] == "plain" ? "ivshmem-plain" : "ivshmem-doorbell", shmem.Element("model")!.Attribute("type")!.Value);
            Assert.Equal(mode[1] == "plain", shmem.Element("size") is not null);

            // Inserting again replaces the structure device's arguments instead of adding a second set.
            File.WriteAllText(domain, r.Stdout);
            var again = StargateProcess.Run(["libvirt-xml", zone.Path, "--name", Path.GetFileName(zone.Path) + ".data", .. mode, "--domain", domain]);
            Assert.True(again.ExitCode == 0, again.ToString());
            var root = XDocument.Parse(again.Stdout).Root!;
            Assert.Single(root.Elements(LibvirtXml.Qemu + "commandline"));
            Assert.Equal(mode[1] == "plain" ? 4 : 8, root.Element(LibvirtXml.Qemu + "commandline")!.Elements().Count());
            Assert.Single(root.Element("devices")!.Elements("shmem"));
        }
    }

    [Fact]
    public void QemuArguments_RefuseVectorsOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QemuArguments.For(new ZoneSizes("/z", 1 << 24, 1 << 24), AttachMode.Doorbell, "/s", ServerLimits.MaxVectors + 1));
    }

    /// <summary>What qemu-args gives for the data file: ivshmem-plain on it, shared, read-only when asked.</summary>
    private static string DataDevice(TempZone zone, string id, bool readOnly) =>
        $"-object memory-backend-file,id={id},mem-path={zone.Path}.data,size={zone.Size},share=on{(readOnly ? ",readonly=on" : "")} -device ivshmem-plain,memdev={id}";

    /// <summary>What qemu-args adds for the structure file: ivshmem-plain on it, read-only.</summary>
    private static string StructureDevice(TempZone zone, string id) =>
        $"-object memory-backend-file,id={id}-s,mem-path={zone.Path},size={new FileInfo(zone.Path).Length},share=on,readonly=on -device ivshmem-plain,memdev={id}-s";
}
