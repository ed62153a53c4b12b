using System.IO.MemoryMappedFiles;
using System.Text;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// A guest as the host sees one, with the mappings a guest's QEMU gives it: its private
/// area (ZONE.area.SLOT) read-write, through which it writes requests the way stargatefs
/// does (every field, then seq last with a release store) and keeps its open table; the
/// structure file Z read-only, where it reads its replies (done, then the body); and
/// Z.data read-write (the inode hints).
/// </summary>
internal sealed unsafe class TestGuest : IDisposable
{
    private readonly List<(MemoryMappedFile File, MemoryMappedViewAccessor View)> _maps = [];
    private readonly byte* _data;
    private readonly byte* _structure;
    private readonly byte* _area;
    private readonly ulong _replies;
    private readonly ZoneGeometry _geometry;
    private ulong _seq;

    /// <summary>Maps the guest's files; an area file the host has not made yet is made here, as a hostile guest's operator could.</summary>
    public TestGuest(string zonePath, ZoneGeometry geometry, int slot)
    {
        Slot = slot;
        string area = GuestAreas.PathOf(zonePath, slot);
        if (!File.Exists(area))
        {
            using var made = File.Create(area);
            made.SetLength(SgzAbi.AreaSize);
        }

        _data = Map(ZoneFiles.DataPath(zonePath), MemoryMappedFileAccess.ReadWrite);
        _structure = Map(zonePath, MemoryMappedFileAccess.Read);
        _area = Map(area, MemoryMappedFileAccess.ReadWrite) + SgzAbi.AreaRing;
        _replies = geometry.RingAreaOffset(slot);
        _geometry = geometry;
    }

    public int Slot { get; }

    /// <summary>The seq the next request takes; a guest may start anywhere above 0.</summary>
    public ulong NextSeq
    {
        get => _seq + 1;
        set => _seq = value - 1;
    }

    public ref SgzRequest Request(int tag) => ref *(SgzRequest*)(_area + SgzAbi.RingRequests + ((ulong)tag * SgzAbi.RequestSize));

    /// <summary>Tag <paramref name="tag"/>'s payload buffer in its private area (SGZ_AREA_PAYLOAD).</summary>
    public Span<byte> Payload(int tag) => new(_area - SgzAbi.AreaRing + SgzAbi.AreaPayload + ((ulong)tag * SgzAbi.PayloadSize), SgzAbi.PayloadSize);

    /// <summary>Its reply slot, in Z: read-only to a guest (the mapping faults on a store).</summary>
    public ref readonly SgzReply ReplyRef(int tag) => ref *(SgzReply*)(_structure + _replies + SgzAbi.RingReplies + ((ulong)tag * SgzAbi.ReplySize));

    /// <summary>The head of its ring area in Z (host_epoch).</summary>
    public ref readonly SgzRingHeader Header => ref *(SgzRingHeader*)(_structure + _replies);

    /// <summary>The ring header of the guest's private area: guest_flags and sleepers (docs/requests.md "Polling").</summary>
    public ref SgzRingHeader AreaHeader => ref *(SgzRingHeader*)_area;

    public ref SgzOpen Open(int entry) => ref *(SgzOpen*)(_area + SgzAbi.RingOpens + ((ulong)entry * SgzAbi.OpenSize));

    /// <summary>An inode's lock word (in its hint, in Z.data), which guests take with cmpxchg(0 -> slot + 1).</summary>
    public ref ulong InodeLockWord(ulong ino) => ref Hint(ino).Lock;

    /// <summary>An inode's hint in Z.data, which guests write.</summary>
    public ref SgzHint Hint(ulong ino) => ref *(SgzHint*)(_data + _geometry.HintOffset(ino) - _geometry.ZoneSize);

    /// <summary>Writes <paramref name="request"/> into slot <paramref name="tag"/>, seq last; returns the seq.</summary>
    public ulong Send(int tag, SgzRequest request)
    {
        ulong seq = ++_seq;
        SendWithSeq(tag, request, seq);
        return seq;
    }

    public void SendWithSeq(int tag, SgzRequest request, ulong seq)
    {
        ref var slot = ref Request(tag);
        Volatile.Write(ref slot.Seq, 0UL);
        request.Seq = 0;
        slot = request;
        Volatile.Write(ref slot.Seq, seq);
    }

    /// <summary>Raw bytes into a slot (the fuzz test's garbage), with seq stored last.</summary>
    public ulong SendBytes(int tag, ReadOnlySpan<byte> bytes)
    {
        ulong seq = ++_seq;
        var target = new Span<byte>(_area + SgzAbi.RingRequests + ((ulong)tag * SgzAbi.RequestSize), SgzAbi.RequestSize);
        bytes[8..SgzAbi.RequestSize].CopyTo(target[8..]);
        Volatile.Write(ref Request(tag).Seq, seq);
        return seq;
    }

    public bool IsDone(int tag, ulong seq) => Volatile.Read(in ReplyRef(tag).Done) == seq;

    /// <summary>The reply to <paramref name="seq"/> in slot <paramref name="tag"/>; fails if it is not published.</summary>
    public SgzReply Reply(int tag, ulong seq)
    {
        Assert.True(IsDone(tag, seq), $"request {seq} in slot {tag} of guest {Slot} has no reply (done {ReplyRef(tag).Done}, reply seq {ReplyRef(tag).Seq})");
        var reply = ReplyRef(tag);
        Assert.Equal(seq, reply.Seq);
        return reply;
    }

    public void SetOpen(int entry, NodeRef node, uint count) => Open(entry) = new SgzOpen { Ino = node.Ino, Generation = node.Generation, Count = count };

    public void Dispose()
    {
        foreach (var (file, view) in _maps)
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            file.Dispose();
        }

        _maps.Clear();
    }

    private byte* Map(string path, MemoryMappedFileAccess access)
    {
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, access);
        var view = file.CreateViewAccessor(0, 0, access);
        _maps.Add((file, view));
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        return p + view.PointerOffset;
    }
}

/// <summary>Requests as stargatefs fills them, one builder per opcode.</summary>
internal static unsafe class Req
{
    public const uint User = 1000;

    public static SgzRequest Make(int opcode, NodeRef dir, string name, uint mode, uint uid = User, uint gid = User)
    {
        var r = Base(opcode, dir, uid, gid);
        r.Mode = mode;
        SetName(ref r, name);
        return r;
    }

    public static SgzRequest Create(NodeRef dir, string name, uint mode = SgzAbi.SIfreg | 0x1a4, uint uid = User) => Make(SgzAbi.OpCreate, dir, name, mode, uid, uid);

    public static SgzRequest Mkdir(NodeRef dir, string name, uint mode = SgzAbi.SIfdir | 0x1ed, uint uid = User) => Make(SgzAbi.OpMkdir, dir, name, mode, uid, uid);

    public static SgzRequest Symlink(NodeRef dir, string name, string target)
    {
        var r = Make(SgzAbi.OpSymlink, dir, name, SgzAbi.SIflnk | 0x1ff);
        SetName2(ref r, Encoding.UTF8.GetBytes(target));
        return r;
    }

    public static SgzRequest Link(NodeRef dir, string name, NodeRef file)
    {
        var r = Make(SgzAbi.OpLink, dir, name, 0);
        r.Ino2 = file.Ino;
        r.Generation2 = file.Generation;
        return r;
    }

    public static SgzRequest Unlink(NodeRef dir, string name, uint uid = User) => Make(SgzAbi.OpUnlink, dir, name, 0, uid, uid);

    public static SgzRequest Rmdir(NodeRef dir, string name) => Make(SgzAbi.OpRmdir, dir, name, 0);

    public static SgzRequest Rename(NodeRef from, string name, NodeRef to, string newName, uint flags = 0)
    {
        var r = Make(SgzAbi.OpRename, from, name, 0);
        r.Ino2 = to.Ino;
        r.Generation2 = to.Generation;
        r.Flags |= flags;
        SetName2(ref r, Encoding.UTF8.GetBytes(newName));
        return r;
    }

    public static SgzRequest SetSize(NodeRef file, ulong size, uint uid = User)
    {
        var r = Base(SgzAbi.OpSetattr, file, uid, uid);
        r.Valid = SgzAbi.AttrSize;
        r.Offset = size;
        return r;
    }

    public static SgzRequest Chmod(NodeRef node, uint mode, uint uid = User)
    {
        var r = Base(SgzAbi.OpSetattr, node, uid, uid);
        r.Valid = SgzAbi.AttrMode;
        r.Mode = mode;
        return r;
    }

    public static SgzRequest Allocate(NodeRef file, ulong offset, ulong length)
    {
        var r = Base(SgzAbi.OpAllocate, file, User, User);
        r.Offset = offset;
        r.Length = length;
        return r;
    }

    public static SgzRequest Lock(NodeRef file, int type, ulong start, ulong length, ulong owner, uint pid, uint flags = 0, int opcode = SgzAbi.OpLock)
    {
        var r = Base(opcode, file, User, User);
        r.LockType = (uint)type;
        r.Offset = start;
        r.Length = length;
        r.Owner = owner;
        r.Pid = pid;
        r.Flags |= flags;
        return r;
    }

    public static SgzRequest Release(NodeRef file) => Base(SgzAbi.OpRelease, file, User, User);

    public static SgzRequest Nop() => Base(SgzAbi.OpNop, default, User, User);

    /// <summary>A request of a 1.2 guest: the caller's fsuid and fsgid in the caller fields (and SGZ_REQ_CALLER), the owner fields the same.</summary>
    public static SgzRequest Base(int opcode, NodeRef node, uint uid, uint gid) => new()
    {
        Opcode = (uint)opcode,
        Flags = SgzAbi.ReqCaller,
        Uid = uid,
        Gid = gid,
        CallerUid = uid,
        CallerGid = gid,
        Ino = node.Ino,
        Generation = node.Generation,
    };

    /// <summary>A setattr of <paramref name="valid"/> by <paramref name="caller"/> (gid the same, unless given), with its supplementary groups.</summary>
    public static SgzRequest Setattr(NodeRef node, uint valid, uint caller = User, uint? callerGid = null, params uint[] groups)
    {
        var r = Base(SgzAbi.OpSetattr, node, caller, callerGid ?? caller);
        r.Valid = valid;
        SetGroups(ref r, groups);
        return r;
    }

    /// <summary>A chown (uid and gid given) or chgrp (uid null): the new owner in the owner fields, the caller in the caller fields.</summary>
    public static SgzRequest Chown(NodeRef node, uint? uid, uint gid, uint caller = User, uint? callerGid = null, params uint[] groups)
    {
        var r = Setattr(node, (uid is null ? 0 : SgzAbi.AttrUid) | SgzAbi.AttrGid, caller, callerGid, groups);
        r.Uid = uid ?? 0;
        r.Gid = gid;
        return r;
    }

    /// <summary>The caller's supplementary groups, as a guest puts them in name[] of setattr and allocate.</summary>
    public static void SetGroups(ref SgzRequest r, ReadOnlySpan<uint> groups)
    {
        r.Ngroups = (uint)groups.Length;
        fixed (byte* p = r.Name)
        {
            var bytes = new Span<byte>(p, 256);
            for (int i = 0; i < groups.Length && i < 64; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes[(i * 4)..], groups[i]);
            }
        }
    }

    public static void SetName(ref SgzRequest r, string name)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(name);
        r.NameLen = (ushort)bytes.Length;
        fixed (byte* p = r.Name)
        {
            bytes.AsSpan(0, Math.Min(bytes.Length, 256)).CopyTo(new Span<byte>(p, 256));
        }
    }

    public static void SetName2(ref SgzRequest r, byte[] bytes)
    {
        r.Name2Len = (ushort)bytes.Length;
        fixed (byte* p = r.Name2)
        {
            bytes.AsSpan(0, Math.Min(bytes.Length, 768)).CopyTo(new Span<byte>(p, 768));
        }
    }
}
