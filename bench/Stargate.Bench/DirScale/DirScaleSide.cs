namespace Stargate.Bench;

/// <summary>
/// Where the directory-scaling part measures: a guest on stargatefs (a served zone), the same
/// guest on its own tmpfs (the reference), and the host library writing a zone of its own in
/// process (no service: the host's own cost, without a guest's request round trip).
/// </summary>
public sealed record DirScaleSide(string Id, string Label)
{
    public static readonly DirScaleSide GuestStargate = new("guest-stargate", "guest, stargatefs");
    public static readonly DirScaleSide GuestTmpfs = new("guest-tmpfs", "guest, tmpfs");
    public static readonly DirScaleSide Host = new("host", "host library");

    /// <summary>Every side, in table order.</summary>
    public static readonly IReadOnlyList<DirScaleSide> All = [GuestStargate, GuestTmpfs, Host];

    /// <summary>The operations, in the order sgbench dirscale runs them (and the tables list them).</summary>
    public static readonly IReadOnlyList<string> Operations = ["create", "stat", "rename", "unlink"];

    /// <summary>The sides Stargate's goal applies to (tmpfs is only the reference).</summary>
    public bool HasGoal => this != GuestTmpfs;
}
