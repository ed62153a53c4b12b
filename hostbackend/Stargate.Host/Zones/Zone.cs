using System.Text;
using Microsoft.Win32.SafeHandles;
using Stargate.Interop.Abi;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>How a zone is opened.</summary>
public enum ZoneAccess
{
    /// <summary>Shared with a writer, if any: nothing is changed, recovery is not run.</summary>
    ReadOnly,

    /// <summary>The only writer: holds the zone file's exclusive flock until closed.</summary>
    ReadWrite,
}

/// <summary>
/// A Stargate zone opened by the host: the mapped file, its geometry, and the components
/// that own its structures (<see cref="Names"/>, <see cref="Files"/>, <see cref="Locks"/>,
/// <see cref="LockWords"/>, <see cref="Peers"/>, <see cref="Orphans"/>, and inside the
/// library the inode table, page tables, directories, allocator and the writer that
/// journals every change). One writer per zone, enforced with flock.
/// </summary>
/// <remarks>
/// Serialization: the zone owns its lock. Every public operation of the zone and of its
/// components takes it (it is reentrant), so each is atomic with respect to other threads
/// and each change is journalled whole. A caller that needs several operations to run with
/// no other thread's in between (the request server's passes, a peer's clean-up) holds the
/// lock with <see cref="Exclusive"/>; the lock object itself never leaves the zone. Nothing
/// of the zone may be used after Dispose.
/// </remarks>
public sealed class Zone : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly SafeFileHandle _dataFile;
    private readonly ZoneMemory _memory;
    private ServiceMappings? _mappingService;
    private readonly Lock _gate = new();
    private bool _closed;

    private Zone(string path, SafeFileHandle file, SafeFileHandle dataFile, ZoneMemory memory, ZoneGeometry geometry)
    {
        Path = path;
        _file = file;
        _dataFile = dataFile;
        _memory = memory;
        Geometry = geometry;
        Writer = new ZoneWriter(path, file, dataFile, memory, geometry);
        Inodes = new InodeTable(path, memory, geometry, Writer);
        Peers = new PeerTable(path, memory, geometry, Writer, _gate);
        unsafe
        {
            var sb = memory.Ref<SgzSuperblock>(0);
            Areas = new GuestAreas(path, geometry, new ReadOnlySpan<byte>(sb.Uuid, 16), memory.Writable);
        }

        Allocator = new Allocator(path, memory, geometry, Writer, Peers);
        Grace = new GracePeriod(path, memory, geometry, Writer, Peers);
        Allocator.Grace = Grace;
        PageTables = new PageTables(path, memory, geometry, Writer, Inodes, Allocator);
        Directories = new Directories(path, memory, geometry, Writer, Inodes, PageTables, Allocator);
        Locks = new LockTable(path, memory, geometry, Writer, Inodes, Peers, _gate);
        LockWords = new InodeLockWords(path, Inodes, Peers, Writer, _gate);
        Xattrs = new Xattrs(path, memory, geometry, Writer, Inodes, Allocator, Peers, p => Names!.Resolve(p), _gate);
        var reclaimer = new InodeReclaimer(Inodes, PageTables, Locks, Xattrs);
        Orphans = new Orphans(Inodes, new OpenTables(Areas, Peers), reclaimer, Writer, _gate);
        var rules = new NamespaceRules(path, geometry, memory, Writer, Inodes, PageTables, Directories, Orphans, reclaimer);
        Names = new Names(path, memory, Inodes, PageTables, Directories, Peers, rules, _gate);
        Files = new FileData(path, dataFile, memory, Writer, Inodes, PageTables, LockWords, Peers, _gate);
        Copies = new FileCopy(memory, Writer, Inodes, PageTables, LockWords, Peers, Files, _gate);
        Writer.Enlist(Allocator);
        Writer.Enlist(Locks);
        Mappings = new ZoneFileMappings(Writer);
        PageTables.Changing = Mappings.Touch;
    }

    /// <summary>The files this process maps with <see cref="ZoneFileMapping"/> as the writer (and, in serve, its clients' files), which follow every change of their pages.</summary>
    internal ZoneFileMappings Mappings { get; }

    /// <summary>
    /// A process that is not the writer: its one connection to the zone's `stargate serve`
    /// for <see cref="ZoneFileMapping"/>s, made at the first; refused (ReadOnly) when no serve
    /// answers for the zone.
    /// </summary>
    internal ServiceMappings MappingService()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            return _mappingService ??= ServiceMappings.Connect(this);
        }
    }

    /// <summary>The data file (PATH.data), as this zone opened it.</summary>
    internal SafeFileHandle DataFile => _dataFile;

    /// <summary>The structure file Z (the zone's name).</summary>
    public string Path { get; }

    /// <summary>The data file Z.data (<see cref="ZoneFiles.DataPath"/>); its size is <see cref="ZoneGeometry.DataFileSize"/>.</summary>
    public string DataPath => ZoneFiles.DataPath(Path);

    public ZoneGeometry Geometry { get; }

    public bool IsWritable => _memory.Writable;

    /// <summary>False if the last writer did not close the zone cleanly.</summary>
    public bool WasClean { get; private set; }

    /// <summary>Journal records undone when this open recovered an interrupted change.</summary>
    public int RecoveredRecords { get; private set; }

    /// <summary>Lookups and namespace changes, by path and by inode.</summary>
    public Names Names { get; }

    /// <summary>File data, setattr and allocate.</summary>
    public FileData Files { get; }

    /// <summary>copy_file_range inside the zone, done by the host (SGZ_OP_COPY).</summary>
    public FileCopy Copies { get; }

    /// <summary>Extended attributes (user.*, trusted.*, security.*), one block per inode.</summary>
    public Xattrs Xattrs { get; }

    /// <summary>The flock and fcntl lock table.</summary>
    public LockTable Locks { get; }

    /// <summary>The inode lock words guests hold across size-changing writes.</summary>
    public InodeLockWords LockWords { get; }

    /// <summary>The peer table and the peers' ring areas.</summary>
    public PeerTable Peers { get; }

    /// <summary>The live guests' private areas (their request rings and open tables), files beside the zone's.</summary>
    public GuestAreas Areas { get; }

    /// <summary>Unlinked files kept for the peers that hold them open.</summary>
    public Orphans Orphans { get; }

    internal ZoneMemory Memory => _memory;

    internal ZoneWriter Writer { get; }

    /// <summary>
    /// How long a change waits for a guest that holds an inode's seqcount or lock word before
    /// it fails with <see cref="GuestHoldsException"/> (ms; 1000 by default, 0 in the service,
    /// whose loop thread never waits on a guest).
    /// </summary>
    public int GuestWaitMs
    {
        get => Writer.GuestWaitMs;
        set => Writer.GuestWaitMs = value;
    }

    internal InodeTable Inodes { get; }

    internal Allocator Allocator { get; }

    /// <summary>Freed file data waiting for every live guest's acknowledgement (docs/zone-format.md).</summary>
    internal GracePeriod Grace { get; }

    internal PageTables PageTables { get; }

    internal Directories Directories { get; }

    internal ref SgzSuperblock Superblock => ref _memory.Ref<SgzSuperblock>(0);

    /// <summary>The journal's state as stored: ACTIVE means a writer died mid-change.</summary>
    internal bool JournalActive => _memory.Ref<SgzJournalHeader>(Geometry.Journal.Offset).State == SgzAbi.JournalActive;

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
    /// Creates and formats a zone: the data file Z.data of <paramref name="size"/> bytes (a power of two) and the
    /// structure file Z sized for it, both mode 0600, or 0660 with <paramref name="group"/>.
    /// </summary>
    public static ZoneGeometry Format(string path, ulong size, bool force = false, uint? group = null) => ZoneFormatter.Format(path, size, force, group);

    /// <summary>
    /// Removes a zone's two files, holding the writer lock so that no live writer's zone is
    /// removed under it. A missing data file is no error (the zone is removed all the same).
    /// </summary>
    public static void Remove(string path)
    {
        using var file = ZoneFile.Open(path, ZoneFile.Mode.Read);
        WriterLock.Take(file, path);
        string dataPath = ZoneFiles.DataPath(path);
        if (File.Exists(dataPath))
        {
            File.Delete(dataPath);
        }

        foreach (string area in GuestAreas.FilesOf(path))
        {
            File.Delete(area);
        }

        File.Delete(path);
    }

    /// <summary>
    /// Holds the zone's lock until the returned scope is disposed (<c>using (zone.Exclusive()) { ... }</c>):
    /// the operations inside run with no other thread's in between (see the remarks on the type).
    /// </summary>
    public Lock.Scope Exclusive() => _gate.EnterScope();

    public ZoneSummary Summarize()
    {
        lock (_gate)
        {
            ulong poolUsed = 0;
            foreach (ushort used in Allocator.ChunkUsage[..(int)Geometry.PoolChunks])
            {
                poolUsed += used;
            }

            return ZoneSummary.Of(Path, Superblock, Geometry, JournalActive, poolUsed);
        }
    }

    /// <summary>Marks the zone cleanly closed (if writable), unmaps it and releases the lock.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _mappingService?.Dispose();
            try
            {
                if (IsWritable && !Writer.Journal.IsActive)
                {
                    Writer.Change(() => Writer.SuperblockForWrite().Flags |= SgzAbi.SbClean);
                    _memory.Flush(Path);
                }
            }
            finally
            {
                Release();
            }
        }
    }

    /// <summary>
    /// Opens a zone for fsck: the exclusive lock (no writer may change it while it
    /// is checked), identity and geometry checks, and nothing else: no recovery,
    /// no clean-flag change. Writable only when repairing.
    /// </summary>
    /// <param name="trustSuperblock">Skip the superblock crc (fsck has checked the geometry it seals and reported the mismatch).</param>
    internal static Zone OpenForCheck(string path, bool writable, bool trustSuperblock = false)
    {
        var zone = Map(path, writable, exclusive: true, checkSeal: !trustSuperblock, checkDataHeader: false);
        zone.Writer.Repairing = writable;
        return zone;
    }

    /// <summary>Runs <paramref name="body"/> as one atomic change under the zone's lock (a request applied with its reply, an fsck repair).</summary>
    internal T Change<T>(Func<T> body)
    {
        lock (_gate)
        {
            return Writer.Change(body);
        }
    }

    /// <inheritdoc cref="Change{T}(Func{T})"/>
    internal void Change(Action body)
    {
        lock (_gate)
        {
            Writer.Change(body);
        }
    }

    /// <summary>
    /// Test seam for the crash tests: runs <paramref name="crash"/> (which throws
    /// <see cref="SimulatedCrashException"/> or kills the process) at the
    /// <paramref name="point"/>-th point from now at which a writer could die. See Journal.
    /// </summary>
    internal void InjectCrashAt(long point, Action crash) => Writer.Journal.ArmCrash(point, crash);

    /// <summary>Test seam: no crash point armed any more.</summary>
    internal void DisarmCrash() => Writer.Journal.DisarmCrash();

    /// <summary>fsck --repair: undoes a dead writer's change; returns the records applied.</summary>
    internal int UndoInterruptedChange()
    {
        lock (_gate)
        {
            Writer.Journal.CheckHeader(Path);
            return Writer.Journal.Rollback(Path);
        }
    }

    /// <summary>fsck --repair, at the end: zero free space and mark the zone clean.</summary>
    internal void FinishRepair()
    {
        lock (_gate)
        {
            Allocator.ZeroAllFreeSpace();
            Writer.Change(() => Writer.SuperblockForWrite().Flags |= SgzAbi.SbClean);
            _memory.Flush(Path);
            Release();
        }
    }

    /// <summary>Drops the zone as a killed process would: no clean flag, no rollback. Tests and fsck's read-only walk.</summary>
    internal void Abandon()
    {
        lock (_gate)
        {
            Release();
        }
    }

    /// <summary>
    /// The one way a zone's two files become a Zone: open Z, lock it if asked, read and check its
    /// superblock's identity, open Z.data, map both back to back, and prove the superblock
    /// (identity unless told otherwise, geometry always) and the data header before anything
    /// uses an offset from them. On failure nothing stays open.
    /// </summary>
    private static Zone Map(string path, bool writable, bool exclusive, bool checkSeal, bool checkDataHeader = true)
    {
        var mode = writable ? ZoneFile.Mode.ReadWrite : ZoneFile.Mode.Read;
        SafeFileHandle file = ZoneFile.Open(path, mode);
        SafeFileHandle? dataFile = null;
        ZoneMemory? memory = null;
        try
        {
            if (exclusive)
            {
                WriterLock.Take(file, path);
            }

            ulong length = (ulong)RandomAccess.GetLength(file);
            if (length < ZoneGeometry.PageSize)
            {
                throw new ZoneException(ZoneError.NotAZone, $"{path} is not a Stargate zone (only {length} bytes)");
            }

            // Magic and version first: a format 1 zone has no data file to look for.
            SgzSuperblock first = default;
            unsafe
            {
                _ = RandomAccess.Read(file, new Span<byte>(&first, SgzAbi.SuperblockSize), 0);
            }

            SuperblockSeal.CheckIdentity(first, path);
            string dataPath = ZoneFiles.DataPath(path);
            dataFile = ZoneFile.Open(dataPath, mode, zonePath: path);
            ulong dataLength = (ulong)RandomAccess.GetLength(dataFile);
            if (dataLength != first.DataFileSize || length != first.ZoneSize)
            {
                throw new ZoneException(ZoneError.Corrupt,
                    $"{path}: the zone's files are {Units.Bytes(length)} and {Units.Bytes(dataLength)} ({dataPath}) but its superblock says {Units.Bytes(first.ZoneSize)} and {Units.Bytes(first.DataFileSize)}");
            }

            memory = new ZoneMemory(file, length, dataFile, dataLength, writable, path);
            var sb = memory.Ref<SgzSuperblock>(0);
            if (checkSeal)
            {
                SuperblockSeal.Check(sb, path);
            }

            var geometry = ZoneGeometry.FromSuperblock(sb, length, dataLength, path);
            if (checkDataHeader && DataHeader.Problem(memory, sb, geometry) is string problem)
            {
                throw new ZoneException(ZoneError.Corrupt, $"{dataPath}: {problem}");
            }

            return new Zone(path, file, dataFile, memory, geometry) { WasClean = (sb.Flags & SgzAbi.SbClean) != 0 };
        }
        catch
        {
            memory?.Dispose();
            dataFile?.Dispose();
            file.Dispose();
            throw;
        }
    }

    private void Release()
    {
        _closed = true;
        Areas.Dispose();
        _memory.Dispose();
        _dataFile.Dispose();
        _file.Dispose();
    }

    /// <summary>
    /// Writes the data header again if a guest scribbled it (it is in Z.data, which guests
    /// write), so that guests that mount later still find their zone; a compare of 64 bytes
    /// when nothing changed. Nothing is read from it: the expected header comes from Z.
    /// Returns whether it had to be written.
    /// </summary>
    public bool RestoreDataHeader()
    {
        using (Exclusive())
        {
            if (!IsWritable || DataHeader.Problem(_memory, Superblock, Geometry) is null)
            {
                return false;
            }

            DataHeader.Write(_memory, Superblock, Geometry);
            return true;
        }
    }

    private void StartWriting(string holder)
    {
        var journal = Writer.Journal;
        journal.CheckHeader(Path);
        if (journal.IsActive)
        {
            RecoveredRecords = journal.Rollback(Path);
        }

        if (!WasClean)
        {
            // The dead writer may have freed space and died before zeroing it.
            Allocator.ZeroAllFreeSpace();
        }

        // No guest live: nobody can map what is pending. Guests a dead service left live start over.
        Grace.AtOpen(Allocator);

        // Every writer open states the pair again in Z.data (a guest reads it before it mounts).
        DataHeader.Write(_memory, Superblock, Geometry);
        Writer.Change(() =>
        {
            ref var sb = ref Writer.SuperblockForWrite();
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
