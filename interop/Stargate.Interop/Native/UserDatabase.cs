using System.Globalization;

namespace Stargate.Interop.Native;

/// <summary>
/// Users and groups by name or number, and a user's groups, from the system's databases
/// (getpwnam_r, getpwuid_r, getgrnam_r, getgrouplist: NSS, so LDAP or systemd-userdb
/// accounts count as /etc/passwd ones do). A lookup error other than "no such entry"
/// throws through the gate.
/// </summary>
public static class UserDatabase
{
    private const nuint FirstBuffer = 1024;
    private const nuint LargestBuffer = 1 << 20;

    /// <summary>A uid given as a number or a user name; null when there is no such user.</summary>
    public static unsafe uint? UserId(string nameOrNumber)
    {
        if (uint.TryParse(nameOrNumber, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid))
        {
            return uid;
        }

        for (nuint length = FirstBuffer; ; length *= 2)
        {
            byte* buffer = (byte*)NativeMemory.Alloc(length);
            try
            {
                Passwd entry;
                Passwd* found = null;
                if (!Again(Libc.GetpwnamR(nameOrNumber, &entry, buffer, length, &found), length, "getpwnam_r", nameOrNumber))
                {
                    return found is null ? null : entry.Uid;
                }
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    /// <summary>A gid given as a number or a group name; null when there is no such group.</summary>
    public static unsafe uint? GroupId(string nameOrNumber)
    {
        if (uint.TryParse(nameOrNumber, NumberStyles.None, CultureInfo.InvariantCulture, out uint gid))
        {
            return gid;
        }

        for (nuint length = FirstBuffer; ; length *= 2)
        {
            byte* buffer = (byte*)NativeMemory.Alloc(length);
            try
            {
                Group entry;
                Group* found = null;
                if (!Again(Libc.GetgrnamR(nameOrNumber, &entry, buffer, length, &found), length, "getgrnam_r", nameOrNumber))
                {
                    return found is null ? null : entry.Gid;
                }
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    /// <summary>The user with this uid: its name and primary group from the passwd database; null when it has no entry.</summary>
    public static unsafe (string Name, uint Gid)? User(uint uid)
    {
        for (nuint length = FirstBuffer; ; length *= 2)
        {
            byte* buffer = (byte*)NativeMemory.Alloc(length);
            try
            {
                Passwd entry;
                Passwd* found = null;
                if (!Again(Libc.GetpwuidR(uid, &entry, buffer, length, &found), length, "getpwuid_r", uid.ToString(CultureInfo.InvariantCulture)))
                {
                    // The name lives in the buffer: copied out before it is freed.
                    return found is null ? null : (Marshal.PtrToStringUTF8((nint)entry.Name)!, entry.Gid);
                }
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    /// <summary>Every group <paramref name="user"/> belongs to per the group database, <paramref name="primary"/> included.</summary>
    public static unsafe uint[] GroupsOf(string user, uint primary)
    {
        int count = 32;
        while (true)
        {
            uint[] groups = new uint[count];
            int wanted = count;
            fixed (uint* p = groups)
            {
                if (Libc.Getgrouplist(user, primary, p, &wanted) >= 0)
                {
                    return groups[..wanted];
                }
            }

            if (wanted <= count)
            {
                throw new IOException($"getgrouplist {user}: failed without saying how many groups it needs");
            }

            count = wanted;
        }
    }

    /// <summary>
    /// The gate for a *_r lookup, which returns its errno: true to call again with a buffer
    /// twice as large (ERANGE), false when the call is done (an entry, or none: 0 with a
    /// null result, or ENOENT/ESRCH from some NSS modules); any other failure throws.
    /// </summary>
    private static bool Again(int rc, nuint length, string operation, string key) => rc switch
    {
        0 or Errno.ENOENT or Errno.ESRCH => false,
        Errno.ERANGE when length < LargestBuffer => true,
        _ => throw Sys.Failure(rc, operation, key),
    };
}
