using Stargate.Host.Zones;
using ZoneFiles = Stargate.IntegrationTests.Host.ZoneFiles;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Files the host put in a zone read back byte for byte in a guest that mounts it, through
/// read(2) and through shared mappings (DAX): sizes around page and chunk boundaries, a
/// sparse file, and one of 200 MiB.
/// </summary>
public sealed class ReadTests(ITestOutputHelper output)
{
    private const ulong ZoneSize = 512UL << 20;

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void HostPutFiles_ReadIdenticalInTheGuest_ThroughReadAndMmap(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var zone = TestZone.InShm(ZoneSize);
        var files = new Dictionary<string, byte[]>
        {
            ["/one-byte"] = HostData.Random(1, 1),
            ["/page-and-a-byte"] = HostData.Random(4097, 2),
            ["/three-mib"] = HostData.Random(3 << 20, 3),
            ["/two-hundred-mib"] = HostData.Random(200 << 20, 4),
        };
        foreach (var (path, data) in files)
        {
            ZoneFiles.Put(zone, path, data);
        }

        files["/sparse"] = PutSparse(zone, "/sparse");

        using var guest = StargatefsGuest.Start(kernel, QemuDevices.IvshmemPlain(zone.Path), output);
        guest.MountZone(readOnly: true);
        foreach (var (path, data) in files)
        {
            guest.AssertReads(StargatefsGuest.Mount + path, FileSum.Of(data));
        }

        guest.Check(guest.MmSum("/mnt/three-mib", populate: true) == FileSum.Of(files["/three-mib"]), "/mnt/three-mib through MAP_POPULATE");
        guest.Finish();
    }

    /// <summary>
    /// A file with holes: 1000 bytes put by the host, extended to 5 MiB + 3 with `stargate
    /// truncate`, then 3000 bytes written at 3 MiB + 5 (a 2 MiB leaf). Returns its bytes.
    /// </summary>
    private static byte[] PutSparse(TestZone zone, string path)
    {
        const int size = (5 << 20) + 3, at = (3 << 20) + 5;
        byte[] head = HostData.Random(1000, 5), middle = HostData.Random(3000, 6);
        ZoneFiles.Put(zone, path, head);
        StargateCli.RunChecked("truncate", zone.Path, path, "--size", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using (var z = Zone.Open(zone.Path, ZoneAccess.ReadWrite, "stargate integration test"))
        {
            z.Files.Write(z.Names.Stat(path).Ino, at, middle);
        }

        var expected = new byte[size];
        head.CopyTo(expected, 0);
        middle.CopyTo(expected, at);
        return expected;
    }
}
