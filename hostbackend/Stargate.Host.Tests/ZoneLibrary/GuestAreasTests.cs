using Stargate.Host.Tests.Support;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Tests.ZoneLibrary;

/// <summary>
/// Each guest's private area (docs/requests.md "A peer's rings"): ZONE.area.SLOT, made anew
/// by the service, found again by a later service only when it is its user's regular file of
/// the right size, and removed with the guest.
/// </summary>
public sealed class GuestAreasTests
{
    [SkippableFact]
    public void Create_MakesA0600FileWithTheHeader_AFoundFileMustBeTheServicesOwn()
    {
        using var zone = new TempZone();
        string path = GuestAreas.PathOf(zone.Path, 4);
        using (var z = zone.Open())
        {
            File.WriteAllText(path, "stale"); // left by someone: replaced, not reused
            z.Areas.Create(4, SgzAbi.AreaReadonly).Dispose();
            var area = z.Areas.Find(4)!;
            Assert.Equal(SgzAbi.AreaMagic, area.Ref<SgzArea>(0).Magic);
            Assert.Equal(4u, area.Ref<SgzArea>(0).Slot);
            Assert.Equal((uint)SgzAbi.AreaReadonly, area.Ref<SgzArea>(0).Flags);
            Assert.Equal(0, Libc.Stat(path, out var status));
            Assert.Equal(0x180u, status.Permissions);
            Assert.Equal(SgzAbi.AreaSize, status.Size);
        }

        // A later service finds its own file again.
        using (var z = zone.Open())
        {
            Assert.NotNull(z.Areas.Find(4));
        }

        // Another user's file at that path, or one of another size, is never served.
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
        {
            Skip.If(Libc.Getuid() != 0, "chown to another uid needs root");
            Assert.Equal(0, Libc.Fchown((int)handle.DangerousGetHandle(), 65534, 65534));
        }

        using (var z = zone.Open())
        {
            Assert.Null(z.Areas.Find(4));
            z.Areas.Remove(4);
            Assert.False(File.Exists(path));
            File.WriteAllBytes(path, new byte[4096]);
            Assert.Null(z.Areas.Find(4));
            Assert.Throws<ZoneException>(() => z.Areas.Find(0));
        }
    }
}
