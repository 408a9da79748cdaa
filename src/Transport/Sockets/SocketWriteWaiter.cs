using System.Threading.Tasks.Sources;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// Where the send loop of an epoll connection waits for its socket to take bytes again (the send
/// buffer was full). Released by the loop's EPOLLOUT (or hang-up, error, abort). Created on the first
/// send that has to wait; one wait at a time.
/// </summary>
internal sealed class SocketWriteWaiter : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core;
    private int _waiting;

    public SocketWriteWaiter()
    {
        // The send loop resumes on the thread pool, never inside the epoll loop.
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>
    /// Waits for a release unless <paramref name="writable"/> says one came since the caller cleared it
    /// before its send (the edge that fired between that send and this wait is not lost).
    /// </summary>
    public ValueTask WaitAsync(ref int writable)
    {
        _core.Reset();
        Interlocked.Exchange(ref _waiting, 1);
        if (Volatile.Read(ref writable) != 0 && Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            return default;
        }
        return new ValueTask(this, _core.Version);
    }

    public void Release()
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _core.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
