using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Stargate.Codegen.Diagnostics;

namespace Stargate.Codegen.Kbuild;

/// <summary>A tool's stdout and stderr, interleaved as they came, and how it exited.</summary>
internal sealed record ToolResult(int ExitCode, string Output)
{
    /// <summary>The lines that warn, compiler's ("warning:") or modpost's ("WARNING:").</summary>
    public IReadOnlyList<string> Warnings =>
        Output.Split('\n').Where(line => line.Contains("warning:", StringComparison.OrdinalIgnoreCase)).ToList();

    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs the kernel's build tools (make, and probes/configure.sh through sh) and waits for them.</summary>
internal static class ExternalTool
{
    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/>. Its output is read and
    /// compared by codegen: English, plain ASCII quotes, no colours, and no settings of a make
    /// that may have started this one (Cake, a Makefile, DKMS). The kernel's Makefile unexports
    /// LC_ALL, so LANG and LC_* carry the locale.
    /// </summary>
    public static ToolResult Run(string file, IEnumerable<string> arguments, string installHint)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

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
            throw new CodegenException($"cannot run {file} ({e.Message}); {installHint}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        lock (output)
        {
            return new ToolResult(process.ExitCode, output.ToString());
        }
    }
}
