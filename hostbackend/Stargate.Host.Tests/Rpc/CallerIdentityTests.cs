using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Tests.Rpc;

/// <summary>
/// The POSIX rules for the caller of a chmod, chown, chgrp, truncate, utimes and kill-privs
/// setattr, judged on the caller fields of the request (docs/requests.md "What the host
/// checks"), never on the owner fields that carry a chown's new owner.
/// </summary>
public class CallerIdentityTests
{
    private const uint Eperm = 1;
    private const uint Eacces = 13;
    private const uint Einval = 22;
    private const uint Eproto = 71;
    private const uint Other = 2000;
    private const uint Group = 3000;

    [Fact]
    public void Chown_ByRoot_GivesTheNewOwnerAndGroupOfTheOwnerFields()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(0u, bench.Call(guest, Req.Chown(file, Other, Group, caller: 0)).Status);

        Assert.Equal(Other, bench.Zone.Names.Stat("/d/f").Uid);
        Assert.Equal(Group, bench.Zone.Names.Stat("/d/f").Gid);
    }

    [Fact]
    public void Chown_ByItsNonRootOwner_FailsWithEPERM_AndTheOwnerStays()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(Eperm, bench.Call(guest, Req.Chown(file, Other, Req.User)).Status);
        Assert.Equal(Eperm, bench.Call(guest, Req.Chown(file, 0, 0)).Status);

        Assert.Equal(Req.User, bench.Zone.Names.Stat("/d/f").Uid);
        Assert.Equal(Req.User, bench.Zone.Names.Stat("/d/f").Gid);
    }

    [Fact]
    public void Chown_ToItsOwnUid_ByTheOwner_IsAllowed_ButNotByAnotherUser()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(0u, bench.Call(guest, Req.Chown(file, Req.User, Req.User)).Status);
        Assert.Equal(Eperm, bench.Call(guest, Req.Chown(file, Req.User, Req.User, caller: Other)).Status);
    }

    [Fact]
    public void Chgrp_ByTheOwner_ToASupplementaryGroupItIsIn_IsAllowed()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(0u, bench.Call(guest, Req.Chown(file, null, Group, Req.User, Req.User, 10, Group)).Status);

        Assert.Equal(Group, bench.Zone.Names.Stat("/d/f").Gid);
    }

    [Fact]
    public void Chgrp_ByTheOwner_ToAGroupItIsNotIn_FailsWithEPERM()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(Eperm, bench.Call(guest, Req.Chown(file, null, Group, Req.User, Req.User, 10, 11)).Status);

        Assert.Equal(Req.User, bench.Zone.Names.Stat("/d/f").Gid);
    }

    [Fact]
    public void Chgrp_ByANonOwnerInTheGroup_FailsWithEPERM()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));

        Assert.Equal(Eperm, bench.Call(guest, Req.Chown(file, null, Group, Other, Group)).Status);

        Assert.Equal(Req.User, bench.Zone.Names.Stat("/d/f").Gid);
    }

    [Fact]
    public void Chmod_ByANonOwner_FailsWithEPERM()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        var chmod = Req.Setattr(file, SgzAbi.AttrMode, Other);
        chmod.Mode = 0x1ff;

        Assert.Equal(Eperm, bench.Call(guest, chmod).Status);

        Assert.Equal(0x1a4u, bench.Zone.Names.Stat("/d/f").Permissions);
    }

    [Fact]
    public void Chmod_SettingSetGid_ByAnOwnerOutsideTheFilesGroup_ClearsIt_AsLinuxDoes()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, bench.Call(guest, Req.Chown(file, Req.User, Group, caller: 0)).Status);

        var outside = Req.Setattr(file, SgzAbi.AttrMode, Req.User, Req.User, 10);
        outside.Mode = 0xdff; // 06777
        Assert.Equal(0u, bench.Call(guest, outside).Status);
        Assert.Equal(0x9ffu, bench.Zone.Names.Stat("/d/f").Permissions); // 04777

        var member = Req.Setattr(file, SgzAbi.AttrMode, Req.User, Req.User, Group);
        member.Mode = 0xdff;
        Assert.Equal(0u, bench.Call(guest, member).Status);
        Assert.Equal(0xdffu, bench.Zone.Names.Stat("/d/f").Permissions);
    }

    [Fact]
    public void Truncate_WithoutWritePermission_FailsWithEACCES_ButThroughAFileOpenForWriting_Succeeds()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        var chmod = Req.Chmod(file, 0);
        Assert.Equal(0u, bench.Call(guest, chmod).Status);

        var truncate = Req.SetSize(file, 8192);
        Assert.Equal(Eacces, bench.Call(guest, truncate).Status);
        Assert.Equal(0ul, bench.Zone.Names.Stat("/d/f").Size);

        truncate.Flags |= SgzAbi.ReqSetattrFile;
        Assert.Equal(0u, bench.Call(guest, truncate).Status);
        Assert.Equal(8192ul, bench.Zone.Names.Stat("/d/f").Size);
    }

    [Fact]
    public void Truncate_ByAMemberOfAGroupWithWritePermission_ThroughASupplementaryGroup_Succeeds()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, bench.Call(guest, Req.Chown(file, Req.User, Group, caller: 0)).Status);
        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, 0x1b0)).Status); // 0660

        var stranger = Req.Setattr(file, SgzAbi.AttrSize, Other);
        stranger.Offset = 100;
        Assert.Equal(Eacces, bench.Call(guest, stranger).Status);

        var member = Req.Setattr(file, SgzAbi.AttrSize, Other, Other, 10, Group);
        member.Offset = 100;
        Assert.Equal(0u, bench.Call(guest, member).Status);
        Assert.Equal(100ul, bench.Zone.Names.Stat("/d/f").Size);
    }

    [Fact]
    public void Utimes_ToAGivenTime_NeedsTheOwnerOrRoot_EvenForAWriter()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, 0x1b6)).Status); // 0666: others may write

        Assert.Equal(Eperm, bench.Call(guest, Times(file, Other, 1_000_000_000)).Status);
        Assert.Equal(0u, bench.Call(guest, Times(file, Req.User, 2_000_000_000)).Status);
        Assert.Equal(2_000_000_000ul, bench.Zone.Names.Stat("/d/f").MtimeNs);
        Assert.Equal(0u, bench.Call(guest, Times(file, 0, 3_000_000_000)).Status);
        Assert.Equal(3_000_000_000ul, bench.Zone.Names.Stat("/d/f").MtimeNs);
    }

    [Fact]
    public void Utimes_ToNow_IsAllowedToAWriter_ButNotToSomeoneWithoutWritePermission()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, bench.Call(guest, Times(file, Req.User, 5)).Status);

        Assert.Equal(Eacces, bench.Call(guest, Times(file, Other, SgzAbi.TimeNow)).Status); // 0644
        Assert.Equal(5ul, bench.Zone.Names.Stat("/d/f").MtimeNs);

        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, 0x1b6)).Status);
        Assert.Equal(0u, bench.Call(guest, Times(file, Other, SgzAbi.TimeNow)).Status);
        Assert.NotEqual(5ul, bench.Zone.Names.Stat("/d/f").MtimeNs);
    }

    [Fact]
    public void KillPrivs_FromANonOwner_ClearsSetUidAndExecutableSetGid()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, 0xdff)).Status); // 06777

        Assert.Equal(0u, bench.Call(guest, Req.Setattr(file, SgzAbi.AttrKillPriv, Other)).Status);

        Assert.Equal(0x1ffu, bench.Zone.Names.Stat("/d/f").Permissions);
    }

    [Fact]
    public void KillPrivs_LeavesSetGidWithoutGroupExecute_AsLinuxDoes()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        Assert.Equal(0u, bench.Call(guest, Req.Chmod(file, 0xdf6)).Status); // 06766

        Assert.Equal(0u, bench.Call(guest, Req.Setattr(file, SgzAbi.AttrKillPriv, Other)).Status);

        Assert.Equal(0x5f6u, bench.Zone.Names.Stat("/d/f").Permissions); // 02766
    }

    [Fact]
    public void KillPrivs_CannotSetAnyBit_WhateverModeTheRequestCarries()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        var kill = Req.Setattr(file, SgzAbi.AttrKillPriv, Other);
        kill.Mode = SgzAbi.SIfreg | 0xfff;

        Assert.Equal(0u, bench.Call(guest, kill).Status);

        Assert.Equal(0x1a4u, bench.Zone.Names.Stat("/d/f").Permissions);
    }

    [Fact]
    public void ARequestWithoutTheCallerFlag_FailsWithEPROTO_InsteadOfRunningAsUid0()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        var old = Req.Chown(file, 0, 0, caller: 0);
        old.Flags = 0;
        old.Ngroups = 0;
        old.CallerUid = 0;
        old.CallerGid = 0;

        Assert.Equal(Eproto, bench.Call(guest, old).Status);

        Assert.Equal(Req.User, bench.Zone.Names.Stat("/d/f").Uid);
    }

    [Fact]
    public void Groups_MoreThanTheMost_OrWithAnOpcodeThatHasANameThere_FailWithEINVAL()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var file = bench.CreateFile(guest, "f", dir);
        var many = Req.Setattr(file, SgzAbi.AttrMode, Req.User, Req.User, [.. Enumerable.Range(1, SgzAbi.ReqGroupsMax + 1).Select(i => (uint)i)]);
        Assert.Equal(Einval, bench.Call(guest, many).Status);

        var create = Req.Create(dir, "g");
        create.Ngroups = 1;
        Assert.Equal(Einval, bench.Call(guest, create).Status);
    }

    [Fact]
    public void CreateAndSymlink_WhoseOwnerFieldsNameSomeoneElse_FailWithEINVAL()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var dir = bench.SharedDirectory("d");
        var create = Req.Create(dir, "g");
        create.Uid = 0;
        var symlink = Req.Symlink(dir, "l", "g");
        symlink.Gid = 0;

        Assert.Equal(Einval, bench.Call(guest, create).Status);
        Assert.Equal(Einval, bench.Call(guest, symlink).Status);
        Assert.Empty(bench.Zone.Names.ReadDirectory("/d"));
    }

    [Fact]
    public void Setattr_WithAnUnknownFlag_FailsWithEINVAL()
    {
        using var bench = new RpcBench();
        var guest = bench.Guest(1);
        var file = bench.CreateFile(guest, "f", bench.SharedDirectory("d"));
        var truncate = Req.SetSize(file, 10);
        truncate.Flags |= 0x2;

        Assert.Equal(Einval, bench.Call(guest, truncate).Status);
    }

    private static SgzRequest Times(NodeRef file, uint caller, ulong ns)
    {
        var r = Req.Setattr(file, SgzAbi.AttrAtime | SgzAbi.AttrMtime, caller);
        r.AtimeNs = ns;
        r.MtimeNs = ns;
        return r;
    }
}
