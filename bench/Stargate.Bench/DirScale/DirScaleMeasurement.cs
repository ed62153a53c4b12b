namespace Stargate.Bench;

/// <summary>
/// One figure of the directory-scaling part: the cost of one operation (create, stat, rename
/// or unlink) per file, in a directory of <see cref="Files"/> files, on one side, over
/// BenchSizes.Runs runs, in <see cref="MicrosecondsPerOp"/>.
/// </summary>
public sealed record DirScaleMeasurement : Figure
{
    public const string MicrosecondsPerOp = "µs/op";

    /// <summary>A <see cref="DirScaleSide.Id"/>: guest-stargate, guest-tmpfs or host.</summary>
    public required string Side { get; init; }

    /// <summary>One of <see cref="DirScaleSide.Operations"/>.</summary>
    public required string Operation { get; init; }

    /// <summary>The directory's size: files created, stat'ed, renamed and unlinked per run.</summary>
    public required int Files { get; init; }

    /// <summary>A figure from @runs (at least one): their median, min and max (<see cref="Figure.Summarize"/>).</summary>
    public static DirScaleMeasurement Of(string side, string operation, int files, IReadOnlyList<double> runs)
    {
        var (median, min, max) = Figure.Summarize(runs);
        return new DirScaleMeasurement
        {
            Side = side,
            Operation = operation,
            Files = files,
            Unit = MicrosecondsPerOp,
            Runs = runs,
            Median = median,
            Min = min,
            Max = max,
        };
    }

    /// <summary>A figure that could not be measured, with the reason.</summary>
    public static DirScaleMeasurement Failed(string side, string operation, int files, string error) => new()
    {
        Side = side,
        Operation = operation,
        Files = files,
        Unit = MicrosecondsPerOp,
        Runs = [],
        Error = error,
    };
}
