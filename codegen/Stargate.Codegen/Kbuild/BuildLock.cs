namespace Stargate.Codegen.Kbuild;

/// <summary>
/// One build of a kernel's module at a time: Cake, a test and a person may run codegen on the
/// same artifacts/modules/RELEASE together, and Kbuild in a folder another build is deleting
/// fails in odd ways. An exclusive lock (flock, through FileShare.None) on RELEASE/.lock,
/// waited for, released on Dispose or when the process dies.
/// </summary>
internal sealed class BuildLock : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    private readonly FileStream file;

    private BuildLock(FileStream file) => this.file = file;

    public static BuildLock Acquire(string directory, string release)
    {
        string path = Path.Combine(directory, ".lock");
        var deadline = DateTime.UtcNow + Patience;
        bool told = false;
        while (true)
        {
            try
            {
                return new BuildLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!told)
                {
                    Console.Error.WriteLine($"stargate-codegen: {release}: waiting for another build of this kernel's module to finish ({path})");
                    told = true;
                }

                Thread.Sleep(TimeSpan.FromMilliseconds(250));
            }
        }
    }

    public void Dispose() => file.Dispose();
}
