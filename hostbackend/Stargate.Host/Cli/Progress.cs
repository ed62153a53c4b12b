using System.Diagnostics;
using Stargate.Host.Zones;

namespace Stargate.Host.Cli;

/// <summary>
/// A progress line on stderr for long copies, shown only on a terminal (and
/// only for copies of 64 MiB or more); with STARGATE_TIMING=1 a final
/// "timing:" line gives the copy's own time for the benchmark scripts.
/// </summary>
internal sealed class Progress(CliSession session, string verb, string name, ulong total)
{
    private const ulong Threshold = 64UL << 20;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _show = session.Terminal && total >= Threshold;
    private long _lastDraw;

    public void Report(ulong done)
    {
        if (!_show || (_clock.ElapsedMilliseconds - _lastDraw < 100 && done < total))
        {
            return;
        }

        _lastDraw = _clock.ElapsedMilliseconds;
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
        int percent = total == 0 ? 100 : (int)(done * 100 / total);
        session.Err.Write($"\r{verb} {Printable.Escape(name)}: {Units.Bytes(done)} of {Units.Bytes(total)} ({percent}%), {Units.Bytes((ulong)(done / seconds))}/s   ");
    }

    public void Done(ulong bytes)
    {
        if (_show)
        {
            Report(total);
            session.Err.WriteLine();
        }

        if (Environment.GetEnvironmentVariable("STARGATE_TIMING") == "1")
        {
            session.Err.WriteLine($"timing: {verb} {bytes} bytes in {_clock.Elapsed.TotalSeconds:0.000} s");
        }
    }
}
