using System.Diagnostics;

namespace Stargate.Interop.Tests;

/// <summary>Runs gcc's front end over a C source.</summary>
internal static class Gcc
{
    public static bool IsAvailable { get; } = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(folder => File.Exists(Path.Combine(folder, "gcc")));

    public const string MissingReason = "gcc is not installed (apt-get install gcc); the layout check needs it";

    /// <summary>
    /// <c>gcc -std=c11 -fsyntax-only -I<paramref name="includeDirectory"/></c> on
    /// <paramref name="source"/>: its exit code and everything it printed.
    /// </summary>
    public static (int ExitCode, string Output) CheckSyntax(string source, string includeDirectory)
    {
        DirectoryInfo folder = Directory.CreateTempSubdirectory("stargate-layout-");
        try
        {
            string file = Path.Combine(folder.FullName, "mirror_layout.c");
            File.WriteAllText(file, source);
            var start = new ProcessStartInfo("gcc")
            {
                ArgumentList = { "-std=c11", "-fsyntax-only", "-I" + includeDirectory, file },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process gcc = Process.Start(start)!;
            Task<string> output = gcc.StandardOutput.ReadToEndAsync();
            Task<string> errors = gcc.StandardError.ReadToEndAsync();
            if (!gcc.WaitForExit(TimeSpan.FromMinutes(1)))
            {
                gcc.Kill(entireProcessTree: true);
                throw new TimeoutException("gcc -fsyntax-only did not finish in a minute");
            }

            return (gcc.ExitCode, output.Result + errors.Result);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
