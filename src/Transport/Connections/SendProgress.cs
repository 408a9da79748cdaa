using System.Threading.Tasks.Sources;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// How far a connection's output has got: bytes flushed into the output buffer, bytes handed to the
/// socket, and bytes the peer has acknowledged. An unbuffered write (docs/design.md section 6) waits here
/// until no more than a small window of the output is unacknowledged, which is how HTTP.sys behaves
/// without HTTP_SEND_RESPONSE_FLAG_BUFFER_DATA: nothing buffers for the app beyond what is in flight,
/// so a one-write-at-a-time app gets that window per round trip.
/// One per connection, reused: HTTP/1.1 has one response, so one write, waiting at a time.
/// </summary>
internal sealed class SendProgress : IValueTaskSource
{
    private const int Idle = 0;
    private const int Waiting = 1;

    private readonly TransportConnection _transport;
    private readonly long _minSendBytesPerSecond;
    private ManualResetValueTaskSourceCore<bool> _core;
    private long _flushed;
    private long _sent;
    private long _acknowledged;
    private int _state;
    private int _closed;
    private long _target;
    private int _window;
    private int _twoSegments;
    private int _watched;
    private CancellationTokenRegistration _cancellation;

    public SendProgress(TransportConnection transport, long minSendBytesPerSecond)
    {
        _transport = transport;
        _minSendBytesPerSecond = minSendBytesPerSecond;
        // The waiter's continuation is the app: never run it on the send loop or a timer thread.
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>True when every byte flushed so far was handed to the socket (the HTTP connection's thread, between flushes).</summary>
    public bool AllSent => Volatile.Read(ref _sent) == _flushed;

    /// <summary>Counts bytes the HTTP connection is about to flush (its thread only).</summary>
    public void OnFlushing(long bytes) => _flushed += bytes;

    /// <summary>Counts bytes the send loop handed to the socket, and releases a write they were holding up.</summary>
    public void OnSent(long bytes)
    {
        // Interlocked: a full fence between publishing the count and reading the waiter's state, matched
        // by the one in WaitAsync, so a write registering as the bytes go out is never missed.
        Interlocked.Add(ref _sent, bytes);
        if (Volatile.Read(ref _state) == Waiting)
        {
            TryRelease();
        }
    }

    /// <summary>
    /// Completes once no more than <paramref name="window"/> of what was flushed so far is unacknowledged
    /// by the peer, wherever it waits (our output buffer or the socket's): the pace of a socket whose
    /// send buffer is that window, with no buffer of ours in front of it.
    /// </summary>
    public ValueTask WaitAsync(int window, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        if (_twoSegments == 0)
        {
            _twoSegments = 2 * _transport.MaximumSegmentSize();
        }
        // Never less than two full segments: a receiver must acknowledge at least every second full
        // segment at once (RFC 9293 section 3.8.6.3), so a wait for more than that is never a wait for
        // its delayed-ACK timer. On loopback a segment is 64 KiB.
        _window = Math.Max(window, _twoSegments);
        _target = _flushed;
        // What is known to be acknowledged only grows, so an old answer that already allows the write
        // saves asking the socket; otherwise ask once before waiting.
        if (_target - Volatile.Read(ref _acknowledged) <= _window || _target - RefreshAcknowledged() <= _window)
        {
            return default;
        }
        _core.Reset();
        // Registered before the state says Waiting, so Complete always sees (and drops) this wait's registration.
        _cancellation = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static (state, token) => ((SendProgress)state!).Complete(new OperationCanceledException(token)), this)
            : default;
        Interlocked.Exchange(ref _state, Waiting);
        if (cancellationToken.IsCancellationRequested)
        {
            Complete(new OperationCanceledException(cancellationToken));
        }
        else if (Volatile.Read(ref _closed) != 0)
        {
            OnConnectionClosed(); // closed as this write registered: nothing will release it
        }
        else
        {
            TryRelease();
        }
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Fails a waiting write, if there is one: the connection is aborted or its send loop has ended.</summary>
    public void OnConnectionClosed()
    {
        // Interlocked: a full fence between marking closed and reading the state, matched by WaitAsync's.
        Interlocked.Exchange(ref _closed, 1);
        if (Volatile.Read(ref _state) == Waiting)
        {
            Complete(new ConnectionResetException(new IOException("The connection closed before the response was sent.")));
        }
    }

    /// <summary>
    /// Bytes handed to the socket minus what it still holds: a lower bound of what the peer has
    /// acknowledged (the count is read first, so a send in between only makes it lower).
    /// </summary>
    private long RefreshAcknowledged()
    {
        long acknowledged = Volatile.Read(ref _sent) - _transport.UnacknowledgedBytes();
        if (acknowledged > Volatile.Read(ref _acknowledged))
        {
            Volatile.Write(ref _acknowledged, acknowledged); // racing refreshes: a lower value costs one more look
        }
        return acknowledged;
    }

    private void TryRelease()
    {
        long outstanding = _target - RefreshAcknowledged();
        if (outstanding <= _window)
        {
            Complete(null);
            return;
        }
        // No event says "acknowledged" on a socket, so the shared poller looks again shortly.
        _transport.Timeouts.StartAcknowledgeTimer(outstanding, _minSendBytesPerSecond);
        if (Volatile.Read(ref _state) != Waiting)
        {
            // Released meanwhile (by OnSent on the send loop): its Complete may have stopped the deadline
            // before this armed it, and a deadline left armed would cut off a healthy connection.
            _transport.Timeouts.StopAcknowledgeTimer();
            return;
        }
        if (Interlocked.Exchange(ref _watched, 1) == 0)
        {
            AcknowledgementPoller.Shared.Watch(this);
        }
    }

    /// <summary>The poller's look (its thread): false once no write waits here, which ends the watch.</summary>
    internal bool Poll()
    {
        if (Volatile.Read(ref _state) == Waiting)
        {
            TryRelease();
            if (Volatile.Read(ref _state) == Waiting)
            {
                return true;
            }
        }
        // A full fence: the store must be seen before the state is read again, or a write that starts
        // waiting now could find the watch still on, and nobody would look at it.
        Interlocked.Exchange(ref _watched, 0);
        // A write that started waiting after the look above found the watch still on and did not ask again.
        if (Volatile.Read(ref _state) == Waiting && Interlocked.Exchange(ref _watched, 1) == 0)
        {
            return true;
        }
        return false;
    }

    private void Complete(Exception? error)
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Waiting) != Waiting)
        {
            return;
        }
        _transport.Timeouts.StopAcknowledgeTimer();
        _cancellation.Unregister();
        if (error is null)
        {
            _core.SetResult(true);
        }
        else
        {
            _core.SetException(error);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
