namespace Stargate.Host.Zones.Format1;

/// <summary>
/// The bytes of a run of a format 1 file whose extents follow each other in the file (not
/// necessarily in the old zone), read from the old zone file: the source of one host write.
/// </summary>
internal sealed class Format1Source(Format1Zone zone, IReadOnlyList<Format1Extent> run) : IDataSource
{
    private readonly ulong _start = run[0].FileOffset;

    public ulong Length => run[^1].FileOffset + run[^1].Length - _start;

    public void CopyTo(Span<byte> target, ulong sourceOffset)
    {
        ulong pos = _start + sourceOffset;
        int i = First(pos);
        while (target.Length > 0)
        {
            var e = run[i++];
            ulong within = pos - e.FileOffset;
            int n = (int)Math.Min((ulong)target.Length, e.Length - within);
            zone.Read(e.ZoneOffset + within, target[..n]);
            target = target[n..];
            pos += (ulong)n;
        }
    }

    /// <summary>The extent holding file offset <paramref name="pos"/> (the run has no gaps).</summary>
    private int First(ulong pos)
    {
        int lo = 0, hi = run.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (run[mid].FileOffset <= pos)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }
}
