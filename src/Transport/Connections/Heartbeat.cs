namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The driver's one timer. Connections do not own timers: each arms a deadline (a field write) and the
/// heartbeat, a few times a second, walks the open connections and fires the deadlines that passed. The
/// cost of a timeout on the request path is a clock read and two field writes (deadlines are
/// Environment.TickCount64 milliseconds), and a timer fires at most a period late, never early.
/// </summary>
internal sealed class Heartbeat : IDisposable
{
    /// <summary>How often deadlines are checked; a timeout fires at most this late.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    private readonly Action<long> _onTick;
    private Timer? _timer;

    public Heartbeat(Action<long> onTick) => _onTick = onTick;

    /// <summary>Starts ticking; idempotent and cheap after the first call.</summary>
    public void EnsureStarted()
    {
        if (Volatile.Read(ref _timer) is not null)
        {
            return;
        }
        var timer = new Timer(static state => ((Heartbeat)state!).Tick(), this, Timeout.Infinite, Timeout.Infinite);
        if (Interlocked.CompareExchange(ref _timer, timer, null) is null)
        {
            timer.Change(Period, Period);
        }
        else
        {
            timer.Dispose();
        }
    }

    private void Tick() => _onTick(Environment.TickCount64);

    public void Dispose() => Interlocked.Exchange(ref _timer, null)?.Dispose();
}
