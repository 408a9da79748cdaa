namespace HttpSysLite.Transport.Connections;

/// <summary>
/// One timer for every unbuffered write that waits on the client's acknowledgements. No event says
/// "acknowledged" on a socket, so a waiting write's <see cref="SendProgress"/> is looked at again
/// shortly: every millisecond after a write starts waiting, backing off to a few milliseconds while
/// the same writes keep waiting. The timer runs only while some write waits, so an idle server, and a
/// connection that never waits, pay nothing; no connection owns a timer.
/// </summary>
internal sealed class AcknowledgementPoller
{
    /// <summary>The process's poller (the acknowledgements are the kernel's, not a driver's).</summary>
    public static readonly AcknowledgementPoller Shared = new();

    private const int FirstDelayMilliseconds = 1;
    private const int MaxDelayMilliseconds = 8;

    private readonly object _gate = new();
    private readonly List<SendProgress> _waiting = new();
    private readonly Timer _timer;
    private int _delay;
    private bool _scheduled;

    private AcknowledgementPoller() =>
        _timer = new Timer(static state => ((AcknowledgementPoller)state!).Tick(), this, Timeout.Infinite, Timeout.Infinite);

    /// <summary>Writes being watched now (tests).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Looks at <paramref name="progress"/> again soon, and on each tick until it says it no longer waits.</summary>
    public void Watch(SendProgress progress)
    {
        lock (_gate)
        {
            _waiting.Add(progress);
            _delay = FirstDelayMilliseconds; // a new waiter is looked at soon, whatever the others have waited
            if (!_scheduled)
            {
                _scheduled = true;
                _timer.Change(_delay, Timeout.Infinite);
            }
        }
    }

    private void Tick()
    {
        lock (_gate)
        {
            // Back to front, so a write that stopped waiting is removed by moving the last one into its place.
            for (int i = _waiting.Count - 1; i >= 0; i--)
            {
                if (!_waiting[i].Poll())
                {
                    _waiting[i] = _waiting[^1];
                    _waiting.RemoveAt(_waiting.Count - 1);
                }
            }
            if (_waiting.Count == 0)
            {
                _scheduled = false;
                return;
            }
            _delay = Math.Min(_delay * 2, MaxDelayMilliseconds);
            _timer.Change(_delay, Timeout.Infinite);
        }
    }
}
