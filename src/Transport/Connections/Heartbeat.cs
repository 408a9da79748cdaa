namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The driver's one timer. Connections do not own timeout timers: each arms deadlines in its
/// <see cref="ConnectionTimeouts"/> (a field write) and the heartbeat, a few times a second, walks the
/// open connections and fires the deadlines that passed. The cost of a timeout on the request path is
/// a clock read and two field writes, and a timer fires at most a period late, never early. The timer
/// comes from the driver's <see cref="TimeProvider"/>, so a fake clock drives it in tests.
/// </summary>
internal sealed class Heartbeat : IDisposable
{
    /// <summary>How often deadlines are checked; a timeout fires at most this late.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    private readonly MillisecondClock _clock;
    private readonly Action<long> _onTick;
    private ITimer? _timer;

    public Heartbeat(MillisecondClock clock, Action<long> onTick)
    {
        _clock = clock;
        _onTick = onTick;
    }

    /// <summary>Starts ticking; idempotent and cheap after the first call.</summary>
    public void EnsureStarted()
    {
        if (Volatile.Read(ref _timer) is not null)
        {
            return;
        }
        var timer = _clock.Time.CreateTimer(static state => ((Heartbeat)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref _timer, timer, null) is null)
        {
            timer.Change(Period, Period);
        }
        else
        {
            timer.Dispose();
        }
    }

    private void Tick() => _onTick(_clock.Now);

    public void Dispose() => Interlocked.Exchange(ref _timer, null)?.Dispose();
}
