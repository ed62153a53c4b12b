using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Stargate.Codegen.Diagnostics;

namespace Stargate.Codegen.Kbuild;

/// <summary>Kbuild's stdout and stderr, interleaved as they came, and how make exited.</summary>
internal sealed record MakeResult(int ExitCode, string Output)
{
    /// <summary>The lines that warn, compiler's ("warning:") or modpost's ("WARNING:").</summary>
    public IReadOnlyList<string> Warnings =>
        Output.Split('\n').Where(line => line.Contains("warning:", StringComparison.OrdinalIgnoreCase)).ToList();
}

/// <summary>Runs Kbuild for an external module: make -C HEADERS M=DIR TARGETS.</summary>
internal static class Make
{
    /// <summary>
    /// Runs make in the kernel's headers on the module folder and waits for it. With
    /// <paramref name="keepGoing"/> (-k) one target's failure does not stop the others.
    /// </summary>
    public static MakeResult Run(string headers, string moduleDirectory, IEnumerable<string> targets, bool keepGoing)
    {
        var start = new ProcessStartInfo("make")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (keepGoing)
        {
            start.ArgumentList.Add("-k");
        }

        start.ArgumentList.Add("-j" + Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(headers);
        start.ArgumentList.Add("M=" + moduleDirectory);
        foreach (var target in targets)
        {
            start.ArgumentList.Add(target);
        }

        // The output is read and compared by codegen: English, plain ASCII quotes, no colours,
        // and no settings of a make that may have started this one (Cake, a Makefile, DKMS).
        // The kernel's Makefile unexports LC_ALL, so LANG and LC_* carry the locale.
        start.Environment["LANG"] = "C";
        foreach (var inherited in new[] { "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "LANGUAGE", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "GCC_COLORS" })
        {
            start.Environment.Remove(inherited);
        }

        var output = new StringBuilder();
        void Append(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Append(e.Data).Append('\n');
                }
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new CodegenException($"cannot run make ({e.Message}); install the kernel build tools: apt-get install make gcc");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        lock (output)
        {
            return new MakeResult(process.ExitCode, output.ToString());
        }
    }
}
