namespace Stargate.Interop.Native;

/// <summary>Process identity and signals.</summary>
public static partial class Libc
{
    public const int SIGKILL = 9;

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int Getpid();

    [LibraryImport("libc", EntryPoint = "getuid")]
    public static partial uint Getuid();

    [LibraryImport("libc", EntryPoint = "getgid")]
    public static partial uint Getgid();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int Gettid();

    /// <summary>Sends a signal to one thread of a process (the gate's tests interrupt a wait with it).</summary>
    [LibraryImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    public static partial int Tgkill(int tgid, int tid, int signal);
}
