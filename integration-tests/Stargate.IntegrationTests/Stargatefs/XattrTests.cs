using System.Text;
using Stargate.IntegrationTests.Guest;
using Stargate.IntegrationTests.Host;
using Stargate.Interop.Abi;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// Extended attributes and long symlink targets across two guests and the host
/// (docs/guest-module.md "Extended attributes"): what one machine sets, the others read at
/// once; getxattr(2) and listxattr(2) size probes and ERANGE as Linux gives them; the
/// one-block limit is ENOSPC; trusted.* is root's; a 4095-byte target made in one guest
/// reads back whole in the other and on the host, and 4096 bytes is ENAMETOOLONG.
/// </summary>
public sealed class XattrTests(ITestOutputHelper output)
{
    private const string Xattr = "sgfstest xattr";
    private const string AsUser = "sgfstest as 1000 1000";

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void Xattrs_AndLongSymlinks_AreSharedAtOnce_WithLinuxErrors(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 2, output);
        var (a, b) = (served.Guests[0], served.Guests[1]);
        a.Exec("mkdir /mnt/x && chmod 777 /mnt/x && echo data > /mnt/x/f && ln -s f /mnt/x/l");

        // Set in A; B and the host read it at once.
        a.Check(a.Exec($"{Xattr} set /mnt/x/f user.color blue")["size"] == "4", "A sets user.color");
        b.Check(b.Exec($"{Xattr} get /mnt/x/f user.color")["value"] == "blue", "B reads A's value at once");
        b.Check(b.Exec($"{Xattr} list /mnt/x/f")["names"] == "user.color", "B lists A's name");
        a.Check(served.Host("xattr", "/x/f", "user.color").Trim() == "blue", "the host reads A's value");

        // XATTR_CREATE on a name that exists, XATTR_REPLACE on one that does not.
        a.Check(a.Fails($"{Xattr} set /mnt/x/f user.color red create") == "EEXIST", "XATTR_CREATE of an existing name: EEXIST");
        a.Check(a.Fails($"{Xattr} set /mnt/x/f user.none red replace") == "ENODATA", "XATTR_REPLACE of a missing name: ENODATA");
        b.Exec($"{Xattr} set /mnt/x/f user.color red replace");
        a.Check(a.Exec($"{Xattr} get /mnt/x/f user.color")["value"] == "red", "A reads B's replacement at once");

        // Size probes (size 0) and ERANGE for a buffer too small, for getxattr and listxattr.
        a.Check(a.Exec($"{Xattr} get /mnt/x/f user.color 0")["size"] == "3", "getxattr with size 0 gives the value's size");
        a.Check(a.Fails($"{Xattr} get /mnt/x/f user.color 2") == "ERANGE", "getxattr into 2 bytes: ERANGE");
        a.Check(a.Exec($"{Xattr} get /mnt/x/f user.color 3")["value"] == "red", "getxattr into exactly 3 bytes");
        a.Check(a.Exec($"{Xattr} list /mnt/x/f 0")["size"] == "11", "listxattr with size 0 gives the list's size");
        a.Check(a.Fails($"{Xattr} list /mnt/x/f 10") == "ERANGE", "listxattr into 10 bytes: ERANGE");
        a.Check(a.Fails($"{Xattr} get /mnt/x/f user.none") == "ENODATA", "a missing name: ENODATA");

        // The host sets one; both guests read it.
        served.Host("xattr", "/x/f", "user.host", "fromhost");
        b.Check(b.Exec($"{Xattr} get /mnt/x/f user.host")["value"] == "fromhost", "B reads the host's value");

        // trusted.* is root's: a user can neither set it nor see it; security.* works for root.
        a.Exec($"{Xattr} set /mnt/x/f trusted.t secret");
        a.Exec($"{Xattr} set /mnt/x/f security.s label");
        a.Check(a.Fails($"{AsUser} {Xattr} set /mnt/x/f trusted.u v") == "EPERM", "uid 1000 may not set trusted.*");
        b.Check(b.Exec($"{Xattr} list /mnt/x/f")["names"] == "user.color,user.host,trusted.t,security.s", "root in B lists every name");
        b.Check(b.Exec($"{AsUser} {Xattr} list /mnt/x/f")["names"] == "user.color,user.host,security.s", "uid 1000 in B does not see trusted.*");
        a.Check(a.Fails($"{Xattr} set /mnt/x/l user.a v") == "EPERM", "user.* on a symbolic link: EPERM");
        a.Check(a.Fails($"{Xattr} set /mnt/x/f os2.a v") == "EOPNOTSUPP", "an unknown namespace: EOPNOTSUPP");

        // Removal in B is seen by A; all of an inode's attributes fit one 4 KiB block, no more.
        b.Exec($"{Xattr} remove /mnt/x/f user.host");
        a.Check(a.Fails($"{Xattr} get /mnt/x/f user.host") == "ENODATA", "A sees B's removal at once");
        a.Exec($"{Xattr} set /mnt/x/f user.big @3900");
        a.Check(a.Fails($"{Xattr} set /mnt/x/f user.more @200") == "ENOSPC", "past one block: ENOSPC");
        a.Check(a.Fails($"{Xattr} set /mnt/x/f user.huge @5000") == "ENOSPC", "a value larger than a block: ENOSPC");
        b.Check(b.Exec($"{Xattr} get /mnt/x/f user.big 0")["size"] == "3900", "B reads the big value's size");

        // A 4095-byte symlink target made in A reads back whole in B and on the host; 4096 is too long.
        string target = string.Concat(Enumerable.Range(0, SgzAbi.SymlinkTargetMax).Select(i => "0123456789/"[i % 11]));
        a.Check(a.Exec("sgfstest symlink /mnt/x/long 4095")["len"] == "4095", "A makes a 4095-byte symlink");
        var read = b.Exec("sgfstest readlink /mnt/x/long");
        b.Check(read["len"] == "4095" && read["crc"] == Crc32C.Compute(Encoding.ASCII.GetBytes(target)).ToString("x8"), $"B reads the whole target: {read.Text}");
        a.Check(served.Host("readlink", "/x/long").Trim() == target, "the host reads the whole target");
        a.Check(a.Fails("sgfstest symlink /mnt/x/toolong 4096") == "ENAMETOOLONG", "a 4096-byte target: ENAMETOOLONG");

        a.Exec("rm -r /mnt/x");
        served.Finish();
    }
}
