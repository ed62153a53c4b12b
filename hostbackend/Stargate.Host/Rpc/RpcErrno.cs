namespace Stargate.Host.Rpc;

/// <summary>The reply status of docs/requests.md that neither Errno nor a zone error names: an unknown opcode.</summary>
internal static class RpcErrno
{
    public const int ENOSYS = 38;
}
