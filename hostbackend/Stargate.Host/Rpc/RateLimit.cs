namespace Stargate.Host.Rpc;

/// <summary>
/// At most one log line per interval for a kind of event a guest can cause at will,
/// with the number of lines left out since the last one: a hostile guest cannot
/// flood the service's log.
/// </summary>
internal sealed class RateLimit(TimeSpan interval)
{
    private long _next;
    private int _suppressed;

    public bool Allow(out int suppressed)
    {
        long now = Environment.TickCount64;
        if (now < _next)
        {
            _suppressed++;
            suppressed = 0;
            return false;
        }

        _next = now + (long)interval.TotalMilliseconds;
        suppressed = _suppressed;
        _suppressed = 0;
        return true;
    }
}
