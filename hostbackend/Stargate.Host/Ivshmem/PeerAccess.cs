using Stargate.Interop.Native;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// Who may use the service's sockets, the ivshmem socket QEMU connects to and the control
/// socket alike: the one credential check (SO_PEERCRED, taken when the client connected),
/// made on every connection before anything is sent to it.
///
/// A process is allowed when its uid is the service's own or root's, or is listed
/// (`--allow-user`), or its process gid is listed (`--allow-group`), or its uid is a member of
/// a listed group per the group database (the passwd entry's group and every group that names
/// the user: getpwuid_r and getgrouplist, through NSS; looked up at each connection, so a
/// change of membership counts from the next one). The socket files are 0600 when nobody else
/// is allowed, else 0666: then the check here is what keeps others out.
/// </summary>
public sealed class PeerAccess(IEnumerable<uint> users, IEnumerable<uint> groups)
{
    private const uint OwnerOnlyMode = 0x180; // 0600
    private const uint AnyoneMayConnectMode = 0x1b6; // 0666

    /// <summary>The service's user and root only: what serve allows without --allow-user or --allow-group.</summary>
    public static PeerAccess OwnerAndRoot { get; } = new([], []);

    public IReadOnlySet<uint> Users { get; } = users.ToHashSet();

    public IReadOnlySet<uint> Groups { get; } = groups.ToHashSet();

    /// <summary>The mode of the socket files: 0600 unless other users are allowed to connect.</summary>
    public uint SocketMode => Users.Count + Groups.Count == 0 ? OwnerOnlyMode : AnyoneMayConnectMode;

    /// <summary>Null when <paramref name="peer"/> (a connected client's SO_PEERCRED) may use the service; else why not, one line.</summary>
    public string? Refusal(UCred peer)
    {
        if (NotOwner(peer) is null || Users.Contains(peer.Uid) || Groups.Contains(peer.Gid) || MemberOfAllowedGroup(peer.Uid))
        {
            return null;
        }

        return $"uid {peer.Uid} (pid {peer.Pid}) is not this service's user (uid {Libc.Getuid()}), root, or allowed by --allow-user or --allow-group";
    }

    /// <summary>
    /// Null when the process at the other end may act as the service itself (its own uid, or
    /// root): what a request needs that runs with the service's rights (a forwarded command,
    /// a host lock); else why not.
    /// </summary>
    public static string? NotOwner(UCred peer)
    {
        uint own = Libc.Getuid();
        return peer.Uid == own || peer.Uid == 0 ? null : $"uid {peer.Uid} may not act as this service (uid {own}); run the command as that user";
    }

    /// <summary>A database that cannot answer (an NSS error) allows nobody: the connection is refused, the service goes on.</summary>
    private bool MemberOfAllowedGroup(uint uid)
    {
        try
        {
            return Groups.Count > 0 && UserDatabase.User(uid) is var (name, primary) && UserDatabase.GroupsOf(name, primary).Any(Groups.Contains);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
