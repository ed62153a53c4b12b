namespace Stargate.Bench.FileSystems;

/// <summary>tmpfs inside the guest: memory speed as the guest sees it, the limit; nothing shared.</summary>
public sealed class GuestTmpfs() : BenchFileSystem("tmpfs", "guest tmpfs")
{
    public override string Setup => "tmpfs mounted in the guest (size=75% of its RAM); no device, nothing shared";

    public override bool Shareable => false;

    public override void Start(string work)
    {
    }

    public override IReadOnlyList<string> Devices(int guest) => [];

    public override string MountCommand(int guest) => $"mount -t tmpfs -o size=75% bench {Mount}";
}
