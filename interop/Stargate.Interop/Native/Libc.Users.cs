namespace Stargate.Interop.Native;

/// <summary>
/// The user and group databases through NSS (files, LDAP, systemd-userdb: whatever
/// /etc/nsswitch.conf names), reentrant forms. These return an errno (0: done) instead of
/// setting it; <see cref="UserDatabase"/> passes it to the gate.
/// </summary>
public static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int GetpwnamR(string name, Passwd* entry, byte* buffer, nuint length, Passwd** result);

    [LibraryImport("libc", EntryPoint = "getpwuid_r")]
    public static unsafe partial int GetpwuidR(uint uid, Passwd* entry, byte* buffer, nuint length, Passwd** result);

    [LibraryImport("libc", EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int GetgrnamR(string name, Group* entry, byte* buffer, nuint length, Group** result);

    /// <summary>Every group of <paramref name="user"/> (with <paramref name="group"/> first); -1 when *count is too small (it is then the count needed).</summary>
    [LibraryImport("libc", EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int Getgrouplist(string user, uint group, uint* groups, int* count);
}

/// <summary>struct passwd on x86-64 (48 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct Passwd
{
    public byte* Name;
    public byte* Password;
    public uint Uid;
    public uint Gid;
    public byte* Gecos;
    public byte* Home;
    public byte* Shell;
}

/// <summary>struct group on x86-64 (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct Group
{
    public byte* Name;
    public byte* Password;
    public uint Gid;
    public byte** Members;
}
