namespace Stargate.Host.Rpc;

/// <summary>The reply statuses of docs/requests.md that the shared Errno class does not name.</summary>
internal static class RpcErrno
{
    public const int ENOLCK = 37;
    public const int ENOSYS = 38;
    public const int ESTALE = 116;
}
