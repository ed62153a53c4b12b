using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Stargate.Bench.Report;

/// <summary>Runs gnuplot (pngcairo) for the charts, and writes its strings and numbers.</summary>
internal static class Gnuplot
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Draws @pngPath (replacing it): @write is given a fresh temporary folder for its data
    /// files and the PNG gnuplot must write, and returns the script. Throws
    /// InvalidOperationException when gnuplot is missing or fails; @pngPath is then untouched.
    /// </summary>
    public static void Draw(string pngPath, Func<string, string, string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        ArgumentNullException.ThrowIfNull(write);
        var folder = Directory.CreateTempSubdirectory("stargate-bench-chart-");
        try
        {
            string script = Path.Combine(folder.FullName, "chart.gp");
            string png = Path.Combine(folder.FullName, "chart.png");
            File.WriteAllText(script, write(folder.FullName, png));
            Run(script, folder.FullName);
            if (!File.Exists(png) || new FileInfo(png).Length == 0)
            {
                throw new InvalidOperationException($"gnuplot exited without error but wrote no chart for {pngPath}");
            }

            File.Move(png, Path.GetFullPath(pngPath), overwrite: true);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Runs @script in @workingDirectory; throws InvalidOperationException when gnuplot is missing or fails.</summary>
    private static void Run(string script, string workingDirectory)
    {
        var start = new ProcessStartInfo("gnuplot")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        Process gnuplot;
        try
        {
            gnuplot = Process.Start(start) ?? throw new InvalidOperationException("gnuplot did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"cannot run gnuplot to draw the benchmark chart ({e.Message}); install it: apt-get install gnuplot-nox", e);
        }

        using (gnuplot)
        {
            var stdout = gnuplot.StandardOutput.ReadToEndAsync();
            var stderr = gnuplot.StandardError.ReadToEndAsync();
            if (!gnuplot.WaitForExit(Timeout))
            {
                gnuplot.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"gnuplot did not finish the benchmark chart within {Timeout.TotalSeconds} s");
            }

            gnuplot.WaitForExit();
            if (gnuplot.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"gnuplot failed (exit code {gnuplot.ExitCode}) drawing the benchmark chart: {(stderr.Result + stdout.Result).Trim()}"
                    + " (it needs the pngcairo terminal: apt-get install gnuplot-nox)");
            }
        }
    }

    /// <summary>@text as a gnuplot double-quoted string (where \n is a line break).</summary>
    public static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
