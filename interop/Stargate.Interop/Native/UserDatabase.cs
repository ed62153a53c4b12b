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
    public static unsafe uint? UserId(string nameOrNumber) =>
        uint.TryParse(nameOrNumber, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) ? uid
        : Find<string, Passwd, uint>(nameOrNumber, nameOrNumber, "getpwnam_r", &Libc.GetpwnamR, &UidOf) is (true, var found) ? found : null;

    /// <summary>A gid given as a number or a group name; null when there is no such group.</summary>
    public static unsafe uint? GroupId(string nameOrNumber) =>
        uint.TryParse(nameOrNumber, NumberStyles.None, CultureInfo.InvariantCulture, out uint gid) ? gid
        : Find<string, Group, uint>(nameOrNumber, nameOrNumber, "getgrnam_r", &Libc.GetgrnamR, &GidOf) is (true, var found) ? found : null;

    /// <summary>The user with this uid: its name and primary group from the passwd database; null when it has no entry.</summary>
    public static unsafe (string Name, uint Gid)? User(uint uid) =>
        Find<uint, Passwd, (string, uint)>(uid, uid.ToString(CultureInfo.InvariantCulture), "getpwuid_r", &Libc.GetpwuidR, &NameAndGid) is (true, var found) ? found : null;

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
    /// Runs a *_r lookup of <paramref name="key"/> with a buffer that grows on ERANGE, and
    /// <paramref name="pick"/> on the entry found while the buffer its strings point into lives.
    /// </summary>
    private static unsafe (bool Found, T Value) Find<TKey, TEntry, T>(TKey key, string shown, string operation,
        delegate*<TKey, TEntry*, byte*, nuint, TEntry**, int> call, delegate*<TEntry*, T> pick)
        where TEntry : unmanaged
    {
        for (nuint length = FirstBuffer; ; length *= 2)
        {
            byte* buffer = (byte*)NativeMemory.Alloc(length);
            try
            {
                TEntry entry;
                TEntry* found = null;
                if (!Again(call(key, &entry, buffer, length, &found), length, operation, shown))
                {
                    return found is null ? (false, default!) : (true, pick(found));
                }
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    private static unsafe uint UidOf(Passwd* entry) => entry->Uid;

    private static unsafe uint GidOf(Group* entry) => entry->Gid;

    /// <summary>The name is copied out of the lookup's buffer before it is freed.</summary>
    private static unsafe (string, uint) NameAndGid(Passwd* entry) => (Marshal.PtrToStringUTF8((nint)entry->Name)!, entry->Gid);

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
