using System.Collections.Concurrent;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// One timer for every unbuffered write that waits on the client's acknowledgements. No event says
/// "acknowledged" on a socket, so a waiting write's <see cref="SendProgress"/> is looked at again
/// shortly: 1 ms after a write starts waiting, backing off to 8 ms while writes keep waiting. The timer
/// runs only while some write waits, so an idle server, and a connection that never waits, pay
/// nothing; no connection owns a timer. A write joins through a lock-free queue (it may join from an
/// epoll loop thread, which must not wait on the poller); only the timer's callback walks the list.
/// </summary>
internal sealed class AcknowledgementPoller
{
    /// <summary>The process's poller (the acknowledgements are the kernel's, not a driver's).</summary>
    public static readonly AcknowledgementPoller Shared = new();

    private const int FirstDelayMilliseconds = 1;
    private const int MaxDelayMilliseconds = 8;

    private readonly ConcurrentQueue<SendProgress> _joining = new();
    private readonly List<SendProgress> _waiting = new(); // the callback's alone (under _tick)
    private readonly object _tick = new();
    private readonly Timer _timer;
    private int _delay = FirstDelayMilliseconds;
    private volatile int _count;

    private AcknowledgementPoller() =>
        _timer = new Timer(static state => ((AcknowledgementPoller)state!).Tick(), this, Timeout.Infinite, Timeout.Infinite);

    /// <summary>Writes being watched now (tests).</summary>
    public int Count => _count + _joining.Count;

    /// <summary>Looks at <paramref name="progress"/> within a millisecond, and on each tick until it says it no longer waits.</summary>
    public void Watch(SendProgress progress)
    {
        _joining.Enqueue(progress);
        // A new waiter is looked at soon, whatever the others have waited.
        Volatile.Write(ref _delay, FirstDelayMilliseconds);
        _timer.Change(FirstDelayMilliseconds, Timeout.Infinite);
    }

    private void Tick()
    {
        if (!Monitor.TryEnter(_tick))
        {
            return; // a tick is running (a join re-armed the timer meanwhile): it looks at the joiners as it ends
        }
        try
        {
            while (_joining.TryDequeue(out var joined))
            {
                _waiting.Add(joined);
            }
            // Back to front, so a write that stopped waiting is removed by moving the last one into its place.
            for (int i = _waiting.Count - 1; i >= 0; i--)
            {
                if (!_waiting[i].Poll())
                {
                    _waiting[i] = _waiting[^1];
                    _waiting.RemoveAt(_waiting.Count - 1);
                }
            }
            _count = _waiting.Count;
            if (_waiting.Count == 0 && _joining.IsEmpty)
            {
                return; // idle: the next Watch starts the timer again
            }
            int delay = Volatile.Read(ref _delay);
            Volatile.Write(ref _delay, Math.Min(delay * 2, MaxDelayMilliseconds));
            _timer.Change(_joining.IsEmpty ? delay : FirstDelayMilliseconds, Timeout.Infinite);
        }
        finally
        {
            Monitor.Exit(_tick);
        }
        // A write that joined as this tick ended may have had its own tick turned away above: look soon.
        if (!_joining.IsEmpty)
        {
            _timer.Change(FirstDelayMilliseconds, Timeout.Infinite);
        }
    }
}
