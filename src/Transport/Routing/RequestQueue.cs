using HttpSysLite.Transport.Connections;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// A request queue: where routed requests meet the apps that consume them. While the queue has
/// capacity, a request runs inline on its connection's loop (no thread hop, no bookkeeping when no
/// concurrency limit is set). Once <see cref="MaxConcurrentRequests"/> requests are in the apps,
/// later ones wait in FIFO order, up to <see cref="Limit"/> of them and for at most
/// <see cref="Timeout"/>; beyond either they are turned away as <see cref="RejectionMode"/> says.
/// Several servers may consume one named queue (attach): requests go to them in turn.
/// </summary>
public sealed class RequestQueue
{
    /// <summary>HTTP.sys's default queue length (HttpSysOptions.RequestQueueLimit).</summary>
    public const int DefaultLimit = 1000;

    /// <summary>HTTP.sys's default RequestQueue timer: two minutes.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private readonly object _gate = new(); // guards _active and _waiting; taken only when a concurrency limit is set
    private readonly LinkedList<TaskCompletionSource<QueueOutcome>> _waiting = new();
    private IRequestQueueHandler[] _consumers;
    private int _active;
    private int _next;

    /// <summary>Creates a queue consumed by <paramref name="handler"/>.</summary>
    public RequestQueue(string? name, IRequestQueueHandler handler)
    {
        Name = name;
        _consumers = [handler];
    }

    /// <summary>The queue's name; null for an anonymous queue.</summary>
    public string? Name { get; }

    /// <summary>How many requests may wait for the app (RequestQueueLimit).</summary>
    public int Limit { get; set; } = DefaultLimit;

    /// <summary>How long a request may wait (Timeouts.RequestQueue).</summary>
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>The clock <see cref="Timeout"/> runs on (the driver's).</summary>
    internal TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Requests the apps may run at once; null for no limit (the app is never saturated).</summary>
    public int? MaxConcurrentRequests { get; set; }

    /// <summary>
    /// Whether the app runs on the connection's loop thread, with no hop to the thread pool
    /// (HttpSys's UnsafePreferInlineScheduling). Unsafe: app code that blocks stalls every connection on
    /// that loop, cache hits included.
    /// </summary>
    public bool PreferInlineScheduling { get; set; }

    /// <summary>How a request that cannot be queued is turned away (Http503Verbosity).</summary>
    public ServiceUnavailableMode RejectionMode { get; set; } = ServiceUnavailableMode.Reset;

    /// <summary>Requests waiting now (for diagnostics).</summary>
    public int WaitingCount
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    internal void Attach(IRequestQueueHandler handler)
    {
        lock (_gate)
        {
            _consumers = [.. _consumers, handler];
        }
    }

    /// <summary>Removes a consumer; returns how many remain.</summary>
    internal int Detach(IRequestQueueHandler handler)
    {
        lock (_gate)
        {
            _consumers = Array.FindAll(_consumers, c => !ReferenceEquals(c, handler));
            return _consumers.Length;
        }
    }

    /// <summary>Takes a slot at once if the apps have capacity and nobody waits ahead.</summary>
    internal bool TryEnter()
    {
        if (MaxConcurrentRequests is not int max)
        {
            return true;
        }
        lock (_gate)
        {
            if (_active < max && _waiting.Count == 0)
            {
                _active++;
                return true;
            }
            return false;
        }
    }

    /// <summary>Waits for a slot (FIFO), bounded by <see cref="Limit"/> and <see cref="Timeout"/>.</summary>
    internal async ValueTask<QueueOutcome> WaitAsync(CancellationToken connectionClosed)
    {
        TaskCompletionSource<QueueOutcome> waiter;
        LinkedListNode<TaskCompletionSource<QueueOutcome>> node;
        CancellationTokenSource timeout;
        lock (_gate)
        {
            if (_active < MaxConcurrentRequests && _waiting.Count == 0)
            {
                _active++;
                return QueueOutcome.Granted;
            }
            if (_waiting.Count >= Limit)
            {
                return QueueOutcome.QueueFull;
            }
            // Granted from another connection's thread: continue on the pool, not inside that thread's Exit.
            waiter = new TaskCompletionSource<QueueOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            // The wait ends at the queue's timeout (on the driver's clock) or when the client leaves. Its
            // clock starts before the request is seen waiting, so whoever counts it waiting and then moves
            // the clock on (the fake clock in tests) moves this deadline too.
            timeout = new CancellationTokenSource(Timeout, Time);
            node = _waiting.AddLast(waiter);
        }

        using var owned = timeout;
        using var registration = timeout.Token.UnsafeRegister(static state => ((TaskCompletionSource<QueueOutcome>)state!).TrySetResult(QueueOutcome.TimedOut), waiter);
        using var closed = connectionClosed.UnsafeRegister(static state => ((TaskCompletionSource<QueueOutcome>)state!).TrySetResult(QueueOutcome.TimedOut), waiter);
        var outcome = await waiter.Task.ConfigureAwait(false);
        if (outcome != QueueOutcome.Granted)
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    _waiting.Remove(node);
                }
            }
        }
        return outcome;
    }

    /// <summary>Gives the slot back: to the first request still waiting, or to the pool.</summary>
    internal void Exit()
    {
        if (MaxConcurrentRequests is null)
        {
            return;
        }
        lock (_gate)
        {
            while (_waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                if (first.Value.TrySetResult(QueueOutcome.Granted))
                {
                    return; // the slot passes straight to the waiter
                }
            }
            _active--;
        }
    }

    /// <summary>The consumer for the next request (round-robin when several servers attached), or null.</summary>
    internal IRequestQueueHandler? NextConsumer()
    {
        var consumers = Volatile.Read(ref _consumers);
        return consumers.Length switch
        {
            0 => null,
            1 => consumers[0],
            _ => consumers[(int)((uint)Interlocked.Increment(ref _next) % (uint)consumers.Length)],
        };
    }
}
