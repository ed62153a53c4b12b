namespace Stargate.Host.Service;

/// <summary>
/// How long the service's loop looks at the rings after answering a request before it sleeps
/// until a doorbell (docs/requests.md "Polling"), adapted as KVM adapts its halt polling: a
/// request that came while the loop looked, or soon after it stopped, widens the window (up to
/// the most <c>--poll-us</c> allows); a look that found nothing and a request that came late
/// narrow it, down to none. So a guest that sends request after request is answered without a
/// wake-up, and an idle or slow one costs no CPU. Times are Stopwatch ticks.
/// </summary>
public sealed class PollWindow(long maxTicks)
{
    /// <summary>The first window once requests come close together: an eighth of the most.</summary>
    private long Start => maxTicks / 8;

    /// <summary>The window now (0: the loop sleeps at once).</summary>
    public long Ticks { get; private set; }

    /// <summary>The loop's look found a request.</summary>
    public void Found() => Ticks = Math.Min(maxTicks, Math.Max(Start, Ticks * 2));

    /// <summary>
    /// The loop slept (its look, if any, found nothing) and the next request came @gap ticks
    /// after the last reply: widened if a window of at most the most would have caught it,
    /// narrowed otherwise.
    /// </summary>
    public void Slept(long gap)
    {
        if (maxTicks <= 0)
        {
            Ticks = 0;
        }
        else if (gap <= maxTicks)
        {
            Found();
        }
        else
        {
            Ticks = Ticks / 2 < Start ? 0 : Ticks / 2;
        }
    }
}
