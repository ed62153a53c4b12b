namespace Stargate.Bench;

/// <summary>A placeholder entry point until the harness lands (the harness's Program.cs replaces this file).</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        _ = args;
        Console.Error.WriteLine("stargate-bench: the harness is not written yet");
        return 2;
    }
}
