using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// Orphans (docs/requests.md, "Unlinked but open"): regular files whose last name went
/// while a peer had them open. They keep their data with nlink 0 and SGZ_INODE_ORPHAN
/// until no live peer's open table names them. The rule for a last name going is here and
/// only here, so an unlink from a guest, from the command line and from fsck is the same.
/// Public members take the zone's lock.
/// </summary>
public sealed class Orphans
{
    private readonly InodeTable _inodes;
    private readonly OpenTables _opens;
    private readonly InodeReclaimer _reclaimer;
    private readonly ZoneWriter _writer;
    private readonly Lock _gate;

    /// <summary>
    /// Inodes that may be orphans: filled by one scan of the inode table at first use, then
    /// kept up to date by this writer. A hint only (an undone change can leave a number that
    /// is no orphan), so every use checks the inode itself.
    /// </summary>
    private HashSet<ulong>? _hint;

    /// <summary>
    /// O_TMPFILEs the host keeps for their makers (peer slot, and until when) before the
    /// maker's open table names them: in the service's memory only, as a restart forgets.
    /// </summary>
    private readonly Dictionary<ulong, (int Slot, long Until)> _held = [];

    internal Orphans(InodeTable inodes, OpenTables opens, InodeReclaimer reclaimer, ZoneWriter writer, Lock gate)
    {
        _inodes = inodes;
        _opens = opens;
        _reclaimer = reclaimer;
        _writer = writer;
        _gate = gate;
    }

    public bool IsOrphan(ulong ino)
    {
        lock (_gate)
        {
            if (ino == 0 || ino >= _inodes.Count || !_inodes.IsUsed(ino))
            {
                return false;
            }

            var inode = _inodes.Load(ino);
            return inode.Mode != 0 && (inode.Flags & SgzAbi.InodeOrphan) != 0;
        }
    }

    /// <summary>Frees, each in its own change, every orphan that no live peer's open table names; returns how many.</summary>
    public int FreeUnheld()
    {
        lock (_gate)
        {
            var hint = Known();
            int freed = 0;
            foreach (ulong ino in hint.ToArray())
            {
                SgzInode inode;
                try
                {
                    inode = _inodes.IsUsed(ino) ? _inodes.Load(ino) : default;
                }
                catch (ZoneException)
                {
                    continue; // a corrupt or busy inode waits for fsck or the next pass; the others are still freed
                }

                if (inode.Mode == 0 || (inode.Flags & SgzAbi.InodeOrphan) == 0 || inode.Nlink != 0 || (inode.Mode & SgzAbi.SIfmt) != SgzAbi.SIfreg)
                {
                    hint.Remove(ino);
                    continue;
                }

                if (_opens.IsOpenAnywhere(ino, inode.Generation))
                {
                    _held.Remove(ino);
                    continue;
                }

                if (_held.TryGetValue(ino, out var held) && Environment.TickCount64 < held.Until)
                {
                    continue;
                }

                _held.Remove(ino);

                _writer.Change(() => _reclaimer.Free(ino));
                hint.Remove(ino);
                freed++;
            }

            return freed;
        }
    }

    /// <summary>
    /// A non-directory lost its last name (nlink is 0 in <paramref name="inode"/>, being
    /// written in the change in progress): a regular file that some live peer has open is
    /// kept as an orphan; anything else is freed.
    /// </summary>
    internal void LastNameGone(ulong ino, ref SgzInode inode)
    {
        if ((inode.Mode & SgzAbi.SIfmt) == SgzAbi.SIfreg && _opens.IsOpenAnywhere(ino, inode.Generation))
        {
            inode.Flags |= SgzAbi.InodeOrphan;
            Known().Add(ino);
        }
        else
        {
            _reclaimer.Free(ino);
        }
    }

    /// <summary>
    /// An O_TMPFILE was made for peer <paramref name="slot"/> (inside the change that made it):
    /// an orphan kept until that peer's open table names it, it sends RELEASE for it, or
    /// SGZ_TMPFILE_HOLD_MS pass (the maker opens it at once; one that died never will).
    /// </summary>
    internal void MadeTmpfile(ulong ino, int slot)
    {
        Known().Add(ino);
        _held[ino] = (slot, Environment.TickCount64 + SgzAbi.TmpfileHoldMs);
    }

    /// <summary>An O_TMPFILE got its first name (inside the change that gave it).</summary>
    internal void Named(ulong ino) => _held.Remove(ino);

    /// <summary>A host mount of this process opened <paramref name="node"/>: an unlink keeps it as an orphan until <see cref="HostClosed"/>.</summary>
    public void HostOpened(NodeRef node)
    {
        lock (_gate)
        {
            _opens.HostOpened(node.Ino, node.Generation);
        }
    }

    /// <summary>A host mount closed <paramref name="node"/>: an orphan no one else holds is freed now.</summary>
    public void HostClosed(NodeRef node)
    {
        lock (_gate)
        {
            _opens.HostClosed(node.Ino, node.Generation);
            FreeUnheld();
        }
    }

    /// <summary>Peer <paramref name="slot"/> closed <paramref name="ino"/> for the last time: a hold it had on it ends.</summary>
    public void Unhold(ulong ino, int slot)
    {
        lock (_gate)
        {
            if (_held.TryGetValue(ino, out var held) && held.Slot == slot)
            {
                _held.Remove(ino);
            }
        }
    }

    private HashSet<ulong> Known()
    {
        if (_hint is not null)
        {
            return _hint;
        }

        var found = new HashSet<ulong>();
        foreach (ulong ino in _inodes.Used())
        {
            if ((_inodes.Live(ino).Flags & SgzAbi.InodeOrphan) != 0)
            {
                found.Add(ino);
            }
        }

        return _hint = found;
    }
}
