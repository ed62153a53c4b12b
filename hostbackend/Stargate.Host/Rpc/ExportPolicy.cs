using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Rpc;

/// <summary>
/// What a guest may do, by the socket it came through, as an NFS export gives per client
/// (docs/security.md "Export policy"). Read-only: every request that changes the zone's
/// namespace, attributes, allocation or takes a write lock is refused with EROFS; reads,
/// read locks, unlocks, getlk and release go on. Root squash: caller uid 0 and gid 0 (also
/// among the supplementary groups) become <see cref="Nobody"/>, so a guest's root is an
/// ordinary user, and what it creates is nobody's.
/// </summary>
public sealed record ExportPolicy(bool ReadOnly, bool RootSquash)
{
    /// <summary>The uid and gid a squashed root gets (nobody and nogroup, as NFS's anonuid).</summary>
    public const uint Nobody = 65534;

    public static ExportPolicy ReadWrite { get; } = new(false, false);

    /// <summary>What both allow: for a guest that came through no known socket (adopted from a previous service, or plain).</summary>
    public ExportPolicy Strictest(ExportPolicy other) => new(ReadOnly || other.ReadOnly, RootSquash || other.RootSquash);

    /// <summary>The options as `serve --socket` takes them: rw or ro, then root_squash if set.</summary>
    public override string ToString() => (ReadOnly ? "ro" : "rw") + (RootSquash ? ",root_squash" : string.Empty);

    /// <summary>The request as this export lets it run: squashed, or refused (EROFS) when it would change something.</summary>
    internal Request Apply(Request request)
    {
        if (ReadOnly && Mutates(request))
        {
            throw new BadRequestException(SgzAbi.StatusErofs, $"opcode {request.Opcode} changes the zone, and this guest's socket is read-only");
        }

        if (!RootSquash)
        {
            return request;
        }

        var c = request.Caller;
        // A squashed root has no capability either: trusted.* and security.* stay out of its reach, and a copy by it drops setuid.
        return request with
        {
            Caller = new Caller(Squash(c.Uid), Squash(c.Gid), c.Slot) { Groups = [.. c.Groups.Select(Squash)] },
            Flags = request.Opcode switch
            {
                SgzAbi.OpSetxattr or SgzAbi.OpRemovexattr => request.Flags & ~SgzAbi.ReqXattrAdmin,
                SgzAbi.OpCopy => request.Flags & ~SgzAbi.ReqCopyFsetid,
                _ => request.Flags,
            },
        };
    }

    private static uint Squash(uint id) => id == 0 ? Nobody : id;

    /// <summary>
    /// Every opcode that changes the namespace, an inode or an allocation, and a write lock:
    /// a write lock exists to change a file, which a read-only guest cannot, and it would let
    /// that guest hold the writers off. Read locks, unlocks and getlk change no data.
    /// </summary>
    private static bool Mutates(Request r) => r.Opcode switch
    {
        SgzAbi.OpLock => r.Range.Type == SgzAbi.LockWrite,
        SgzAbi.OpGetlk or SgzAbi.OpRelease or SgzAbi.OpNop or SgzAbi.OpAck => false,
        _ => true,
    };
}
