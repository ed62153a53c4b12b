using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>
/// The inode lock words (sgz_hint.lock, in Z.data): runtime state changed only with atomic
/// instructions, never journalled. A guest holds an inode's word across a write that may
/// change its size; the host takes it as slot 0 around its own truncate, and clears the
/// words of a peer that died. Bits: holder slot + 1 (SGZ_ILOCK_HOLDER_MASK), and
/// SGZ_ILOCK_WAITERS when another peer waits (the releaser must ring the guests).
/// Public members take the zone's lock.
/// </summary>
public sealed class InodeLockWords
{
    private readonly string _path;
    private readonly InodeTable _inodes;
    private readonly PeerTable _peers;
    private readonly ZoneWriter _writer;
    private readonly Lock _gate;

    internal InodeLockWords(string path, InodeTable inodes, PeerTable peers, ZoneWriter writer, Lock gate)
    {
        _path = path;
        _inodes = inodes;
        _peers = peers;
        _writer = writer;
        _gate = gate;
    }

    /// <summary>Clears every inode lock word held by <paramref name="slot"/> (a dead peer); returns how many. Scans the used inodes.</summary>
    public int ReleaseAll(int slot)
    {
        _peers.Check(slot);
        lock (_gate)
        {
            int cleared = 0;
            foreach (ulong ino in _inodes.Used())
            {
                ref ulong word = ref _inodes.Hint(ino).Lock;
                ulong now = Volatile.Read(ref word);
                if ((now & SgzAbi.IlockHolderMask) == (ulong)slot + 1 && Interlocked.CompareExchange(ref word, 0, now) == now)
                {
                    cleared++;
                }
            }

            return cleared;
        }
    }

    /// <summary>
    /// The host takes an inode's lock word as slot 0, waiting at most the writer's
    /// <see cref="ZoneWriter.GuestWaitMs"/> for a guest that holds it (then <see cref="GuestHoldsException"/>).
    /// </summary>
    internal void TakeAsHost(ulong ino) => TakeAsHost(ino, holder: -1);

    /// <summary>
    /// For a guest's request: true if the host took the word (release it after), false if
    /// <paramref name="holder"/> (the requesting guest, which takes it around a size change
    /// and then asks) holds it already; another live guest is waited for as in
    /// <see cref="TakeAsHost(ulong)"/>. A word that names no live guest is taken over at once,
    /// its waiters bit kept: its holder left or died after the clean-up of its words (or a
    /// guest wrote another slot's number), or it names the host, which holds no word outside
    /// its own change; the guests' memory holds nothing the host must wait for.
    /// </summary>
    internal bool TakeAsHost(ulong ino, int holder)
    {
        ref ulong word = ref _inodes.Hint(ino).Lock;
        if (holder >= 0 && (Volatile.Read(ref word) & SgzAbi.IlockHolderMask) == (ulong)holder + 1)
        {
            return false;
        }

        const ulong mine = (ulong)SgzAbi.HostPeerSlot + 1;
        int waitMs = _writer.GuestWaitMs;
        long deadline = Environment.TickCount64 + waitMs;
        for (ulong seen; (seen = Interlocked.CompareExchange(ref word, mine, 0)) != 0;)
        {
            if (!HeldByLiveGuest(seen) && Interlocked.CompareExchange(ref word, mine | (seen & SgzAbi.IlockWaiters), seen) == seen)
            {
                break;
            }

            if (Environment.TickCount64 >= deadline)
            {
                throw new GuestHoldsException($"{_path}: inode {ino}: its lock is held by peer slot {(Volatile.Read(ref word) & SgzAbi.IlockHolderMask) - 1} for over {waitMs} ms");
            }

            Thread.Sleep(1);
        }

        return true;
    }

    /// <summary>
    /// Runs <paramref name="body"/> as one change holding <paramref name="ino"/>'s lock word for
    /// a guest's request from <paramref name="holder"/> (see <see cref="TakeAsHost(ulong, int)"/>:
    /// not taken when that guest holds it already). Held until the change ends: inside a
    /// request's change, that is after its reply commits.
    /// </summary>
    internal T ChangeHolding<T>(ulong ino, int holder, Func<T> body)
    {
        bool took = TakeAsHost(ino, holder);
        try
        {
            return _writer.Change(() =>
            {
                if (took)
                {
                    _writer.AfterEnd(() => ReleaseAsHost(ino));
                    took = false;
                }

                return body();
            });
        }
        finally
        {
            if (took)
            {
                ReleaseAsHost(ino); // the change never started
            }
        }
    }

    /// <summary>Whether lock word value <paramref name="word"/> names a guest slot this process knows as live.</summary>
    private bool HeldByLiveGuest(ulong word)
    {
        ulong slot = (word & SgzAbi.IlockHolderMask) - 1;
        return word != 0 && slot != SgzAbi.HostPeerSlot && slot < (ulong)_peers.Count && _peers.IsLive((int)slot);
    }

    /// <summary>Releases the host's hold; true when a peer marked itself waiting (the caller rings the live guests).</summary>
    internal bool ReleaseAsHost(ulong ino) =>
        (Interlocked.Exchange(ref _inodes.Hint(ino).Lock, 0) & SgzAbi.IlockWaiters) != 0;
}
