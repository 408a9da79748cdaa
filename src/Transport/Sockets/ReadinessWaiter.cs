using System.Threading.Tasks.Sources;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// Where one direction of an epoll-served socket waits for it to become ready again (bytes to
/// read, or room to write), released by the loop's event or an abort, and cancellable: a wait holds
/// no operating-system operation, so cancelling it consumes nothing. One wait at a time.
/// </summary>
internal sealed class ReadinessWaiter : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core; // a mutable struct: never copied, never readonly
    private CancellationTokenRegistration _cancellation;
    private int _waiting;

    /// <param name="continueOnLoop">
    /// True: the waiter's continuation runs on the thread that released it (the epoll loop), so what
    /// the bytes start (decrypting, parsing a head) happens in the event that announced them, as on a
    /// plain epoll connection. False: it runs on the thread pool.
    /// </param>
    public ReadinessWaiter(bool continueOnLoop) => ContinueOnLoop = continueOnLoop;

    /// <summary>Where the next wait's continuation runs (see the constructor); changed only between waits.</summary>
    public bool ContinueOnLoop
    {
        get => !_core.RunContinuationsAsynchronously;
        set => _core.RunContinuationsAsynchronously = !value;
    }

    /// <summary>
    /// Waits for a release unless <paramref name="ready"/> says one came since the caller cleared it
    /// before its attempt (an edge that fired between that attempt and this wait is not lost).
    /// </summary>
    public ValueTask WaitAsync(ref int ready, CancellationToken cancellationToken)
    {
        _core.Reset();
        Interlocked.Exchange(ref _waiting, 1);
        if (Volatile.Read(ref ready) != 0 && Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            return default;
        }
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((ReadinessWaiter)state!).Cancel(token), this);
        }
        return new ValueTask(this, _core.Version);
    }

    /// <summary>The socket is ready (or gone): the wait, if there is one, ends. Safe from any thread.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _core.SetResult(true);
        }
    }

    private void Cancel(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _core.SetException(new OperationCanceledException(token));
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        var cancellation = _cancellation;
        _cancellation = default;
        cancellation.Dispose();
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
