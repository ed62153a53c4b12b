using System.Text;
using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zone;

/// <summary>How a zone is opened.</summary>
public enum ZoneAccess
{
    /// <summary>Shared with a writer, if any: nothing is changed, recovery is not run.</summary>
    ReadOnly,

    /// <summary>The only writer: holds the zone file's exclusive flock until closed.</summary>
    ReadWrite,
}

/// <summary>
/// A Stargate zone opened by the host: the mapped file, its geometry and, when
/// writable, the journal through which every structural change goes. One
/// writer per zone (enforced with flock); all methods of one instance are
/// serialized by the caller or by <see cref="Sync"/>.
/// </summary>
public sealed partial class Zone : IDisposable
{
    private const int LockRetries = 20;
    private const int LockRetryMs = 25;
    private readonly SafeFileHandle _file;
    private readonly ZoneMemory _memory;
    private readonly Journal? _journal;
    private bool _closed;

    /// <summary>Opened by fsck --repair: a seqcount that stays odd is taken anyway (see TakeSeq).</summary>
    private bool _repairing;

    private Zone(string path, SafeFileHandle file, ZoneMemory memory, ZoneGeometry geometry)
    {
        Path = path;
        _file = file;
        _memory = memory;
        Geometry = geometry;
        if (memory.Writable)
        {
            _journal = new Journal(memory, geometry.Journal);
        }
    }

    public string Path { get; }

    public ZoneGeometry Geometry { get; }

    public bool IsWritable => _memory.Writable;

    /// <summary>False if the last writer did not close the zone cleanly.</summary>
    public bool WasClean { get; private set; }

    /// <summary>Journal records undone when this open recovered an interrupted change.</summary>
    public int RecoveredRecords { get; private set; }

    /// <summary>The lock that serializes every operation on this instance.</summary>
    public object Sync { get; } = new();

    /// <summary>Fault injection: called at every point a writer could die (see Journal).</summary>
    internal Action? CrashPoint
    {
        get => _journal?.CrashPoint;
        set => _journal!.CrashPoint = value;
    }

    internal ZoneMemory Memory => _memory;

    internal ref SgzSuperblock Superblock => ref _memory.Ref<SgzSuperblock>(0);

    /// <summary>
    /// Opens an existing zone. Checks magic, version, checksum and geometry; a
    /// writer takes the exclusive lock (or fails naming the holder), undoes an
    /// interrupted change and re-establishes the zero-free-space invariant if
    /// the last writer died.
    /// </summary>
    public static Zone Open(string path, ZoneAccess access, string holder = "stargate")
    {
        bool write = access == ZoneAccess.ReadWrite;
        var zone = Map(path, write, exclusive: write, checkSeal: true);
        if (write)
        {
            try
            {
                zone.StartWriting(holder);
            }
            catch
            {
                zone.Release();
                throw;
            }
        }

        return zone;
    }

    /// <summary>
    /// Opens a zone for fsck: the exclusive lock (no writer may change it while it
    /// is checked), identity and geometry checks, and nothing else: no recovery,
    /// no clean-flag change. Writable only when repairing.
    /// </summary>
    /// <param name="trustSuperblock">Skip the superblock crc (fsck has checked the geometry it seals and reported the mismatch).</param>
    internal static Zone OpenForCheck(string path, bool writable, bool trustSuperblock = false)
    {
        var zone = Map(path, writable, exclusive: true, checkSeal: !trustSuperblock);
        zone._repairing = writable;
        return zone;
    }

    /// <summary>
    /// The one way a zone file becomes a Zone: open, lock if asked, map, and prove the
    /// superblock (identity unless told otherwise, geometry always) before anything
    /// uses an offset from it. On failure nothing stays open.
    /// </summary>
    private static Zone Map(string path, bool writable, bool exclusive, bool checkSeal)
    {
        SafeFileHandle file = OpenFile(path, writable);
        ZoneMemory? memory = null;
        try
        {
            if (exclusive)
            {
                LockExclusive(file, path);
            }

            ulong length = (ulong)RandomAccess.GetLength(file);
            if (length < ZoneGeometry.PageSize)
            {
                throw new ZoneException(ZoneError.NotAZone, $"{path} is not a Stargate zone (only {length} bytes)");
            }

            memory = new ZoneMemory(file, length, writable, path);
            var sb = memory.Ref<SgzSuperblock>(0);
            if (checkSeal)
            {
                CheckIdentity(sb, path);
            }

            var geometry = ZoneGeometry.FromSuperblock(sb, length, path);
            return new Zone(path, file, memory, geometry) { WasClean = (sb.Flags & SgzAbi.SbClean) != 0 };
        }
        catch
        {
            memory?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>The journal's state as stored: ACTIVE means a writer died mid-change.</summary>
    internal bool JournalActive => _memory.Ref<SgzJournalHeader>(Geometry.Journal.Offset).State == SgzAbi.JournalActive;

    /// <summary>fsck --repair: undoes a dead writer's change; returns the records applied.</summary>
    internal int UndoInterruptedChange()
    {
        _journal!.CheckHeader(Path);
        return _journal.Rollback(Path);
    }

    /// <summary>fsck --repair, at the end: zero free space and mark the zone clean.</summary>
    internal void FinishRepair()
    {
        ZeroAllFreeSpace();
        Change(() => SuperblockForWrite().Flags |= SgzAbi.SbClean);
        _memory.Flush(Path);
        Release();
    }

    /// <summary>Verifies magic, major version and superblock checksum, with messages that name what is wrong.</summary>
    internal static void CheckIdentity(in SgzSuperblock sb, string path)
    {
        if (sb.Magic != SgzAbi.Magic)
        {
            throw new ZoneException(ZoneError.NotAZone, $"{path} is not a Stargate zone (no STARGATE magic at offset 0)");
        }

        if (sb.VersionMajor > SgzAbi.VersionMajor)
        {
            throw new ZoneException(ZoneError.VersionTooNew,
                $"{path} has zone format {sb.VersionMajor}.{sb.VersionMinor}; this stargate reads format {SgzAbi.VersionMajor}.x only: upgrade stargate");
        }

        if (sb.SbSize != SgzAbi.SuperblockSize)
        {
            throw new ZoneCorruptException($"{path}: superblock size field is {sb.SbSize}, expected {SgzAbi.SuperblockSize}");
        }

        uint crc = SuperblockCrc(sb);
        if (crc != sb.Crc)
        {
            throw new ZoneCorruptException(
                $"{path}: superblock checksum mismatch at offset 0x{SgzAbi.SuperblockCrcOffset:x} (stored 0x{sb.Crc:x8}, computed 0x{crc:x8}); run 'stargate zone fsck'");
        }
    }

    internal static unsafe uint SuperblockCrc(in SgzSuperblock sb)
    {
        fixed (SgzSuperblock* p = &sb)
        {
            return Crc32C.Compute(new ReadOnlySpan<byte>(p, SgzAbi.SuperblockCrcOffset));
        }
    }

    /// <summary>Marks the zone cleanly closed (if writable), unmaps it and releases the lock.</summary>
    public void Dispose()
    {
        if (_closed)
        {
            return;
        }

        try
        {
            if (IsWritable && !_journal!.IsActive)
            {
                Change(() =>
                {
                    ref var sb = ref SuperblockForWrite();
                    sb.Flags |= SgzAbi.SbClean;
                });
                _memory.Flush(Path);
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Drops the zone as a killed process would: no clean flag, no rollback. Tests only.</summary>
    internal void Abandon() => Release();

    private void Release()
    {
        _closed = true;
        _memory.Dispose();
        _file.Dispose();
    }

    private static SafeFileHandle OpenFile(string path, bool write) =>
        ZoneFile.Open(path, write ? ZoneFile.Mode.ReadWrite : ZoneFile.Mode.Read);

    private static void LockExclusive(SafeFileHandle file, string path)
    {
        int fd = (int)file.DangerousGetHandle();
        int errno = Sys.Try(() => Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB));

        // A writer that has just closed may still hold the lock for an instant: through a child
        // forked before its close and not yet exec'd (O_CLOEXEC acts only at exec), or while
        // its process exits. Wait that out briefly before calling the zone busy.
        for (int retry = 0; errno == Errno.EWOULDBLOCK && retry < LockRetries; retry++)
        {
            Thread.Sleep(LockRetryMs);
            errno = Sys.Try(() => Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB));
        }

        if (errno == Errno.EWOULDBLOCK)
        {
            throw new ZoneException(ZoneError.Busy, $"{path} is open for writing by {DescribeWriter(file)}; stop it or use a read-only command");
        }

        if (errno != 0)
        {
            throw new NativeException("flock", path, errno);
        }
    }

    /// <summary>"pid 123 (stargate serve) since 2026-11-21 07:00:00Z", read from the superblock the holder wrote.</summary>
    private static string DescribeWriter(SafeFileHandle file)
    {
        Span<byte> raw = stackalloc byte[SgzAbi.SuperblockSize];
        if (RandomAccess.Read(file, raw, 0) < raw.Length)
        {
            return "another process";
        }

        var sb = MemoryMarshal.Read<SgzSuperblock>(raw);
        if (sb.Magic != SgzAbi.Magic || sb.WriterPid == 0)
        {
            return "another process";
        }

        unsafe
        {
            var name = new ReadOnlySpan<byte>(sb.WriterCmd, 32);
            int end = name.IndexOf((byte)0);
            string cmd = Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
            var since = DateTimeOffset.FromUnixTimeMilliseconds((long)(sb.WriterSinceNs / 1_000_000));
            return $"pid {sb.WriterPid} ({cmd}) since {since:yyyy-MM-dd HH:mm:ss}Z";
        }
    }

    private void StartWriting(string holder)
    {
        _journal!.CheckHeader(Path);
        if (_journal.IsActive)
        {
            RecoveredRecords = _journal.Rollback(Path);
        }

        if (!WasClean)
        {
            // The dead writer may have freed space and died before zeroing it.
            ZeroAllFreeSpace();
        }

        Change(() =>
        {
            ref var sb = ref SuperblockForWrite();
            sb.Flags &= ~SgzAbi.SbClean;
            sb.OpenCount++;
            sb.WriterPid = (ulong)Libc.Getpid();
            sb.WriterSinceNs = ZoneClock.NowNs();
            unsafe
            {
                fixed (byte* cmd = sb.WriterCmd)
                {
                    var name = new Span<byte>(cmd, 32);
                    name.Clear();
                    Encoding.UTF8.GetBytes(holder.AsSpan(0, Math.Min(holder.Length, 31)), name[..31]);
                }
            }
        });
    }
}
