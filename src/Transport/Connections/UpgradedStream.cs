using System.Buffers;
using System.IO.Pipelines;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The raw connection after a 101 response: reads and writes bytes with no HTTP framing.
/// On a transport that can suspend (epoll), a read that has waited for a second with nothing to send
/// gives the connection's pipes and send loop up, as an idle keep-alive connection does
/// (docs/design.md section 12): a silent WebSocket then holds its socket, its request and what the app
/// keeps, not a pipe pair. A read waits for the connection to be resumed by its next bytes (or FIN,
/// reset, abort); a write or the request's end resumes it first.
/// </summary>
internal sealed class UpgradedStream : Stream
{
    // The gate between the app's writes and a suspension, which completes the output's writer and drops
    // the pipes: a suspension takes it only while no write is in, a write only while not suspended.
    // Ended once the request is over: nothing suspends after that.
    private const int Open = 0;
    private const int Writing = 1;
    private const int Suspended = 2;
    private const int Ended = 3;

    private readonly HttpConnection _connection;
    private readonly TransportConnection _transport;
    private int _gate;
    // Completed when the connection runs again (set before the gate reads Suspended, cleared before it reopens).
    private TaskCompletionSource? _resumed;

    public UpgradedStream(HttpConnection connection)
    {
        _connection = connection;
        _transport = connection.Transport;
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        bool freshWait = true;
        while (true)
        {
            if (Volatile.Read(ref _gate) == Suspended)
            {
                if (Volatile.Read(ref _resumed) is { } resumed)
                {
                    await resumed.Task.WaitAsync(cancellationToken).ConfigureAwait(false); // bytes wake it
                }
                freshWait = true;
                continue;
            }
            var input = _transport.Input; // the pipe of now: a resume makes new ones
            if (!input.TryRead(out var result))
            {
                if (!_transport.CanSuspend || Volatile.Read(ref _gate) == Ended)
                {
                    result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // The heartbeat may end this wait once it has lasted IdleContextRelease (HttpConnection's
                    // idle-wait handshake, as for a keep-alive connection's wait for its next request).
                    _connection.BeginIdleWait(freshWait);
                    freshWait = false;
                    try
                    {
                        result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        if (_connection.EndIdleWait())
                        {
                            TakeCancel(input); // the heartbeat's, still in the pipe: no later read may take it for a close
                        }
                        throw;
                    }
                    if (_connection.EndIdleWait())
                    {
                        if (!result.IsCanceled)
                        {
                            input.AdvanceTo(result.Buffer.Start);
                            TakeCancel(input);
                            if (!input.TryRead(out result))
                            {
                                continue;
                            }
                        }
                        if (result.Buffer.IsEmpty && !result.IsCompleted && _connection.TimedOut == TimerKind.None)
                        {
                            // Still silent: give the pipes up until the connection's next bytes.
                            input.AdvanceTo(result.Buffer.End);
                            TrySuspend();
                            // This method's state outlives the wait for a resume: it must not keep the dropped pipe.
                            input = null!;
                            result = default;
                            continue;
                        }
                    }
                }
            }
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                int take = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, take).CopyTo(buffer.Span);
                input.AdvanceTo(data.GetPosition(take));
                return take;
            }
            input.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                // The end of the stream at the client's FIN; a reset is a failure, as on a socket.
                return _transport.InputReset is { } reset ? throw new Sockets.ConnectionResetException(reset.InnerException ?? reset) : 0;
            }
        }
    }

    /// <summary>Takes a cancel left in the pipe (a TryRead that sees it clears it), leaving its bytes unread.</summary>
    private static void TakeCancel(PipeReader input)
    {
        if (input.TryRead(out var result))
        {
            input.AdvanceTo(result.Buffer.Start);
        }
    }

    /// <summary>Gives the pipes up if no write is in and the transport agrees (all sent, nothing arriving).</summary>
    private void TrySuspend()
    {
        var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _resumed, resumed); // before the gate says Suspended: whoever sees that waits on it
        if (Interlocked.CompareExchange(ref _gate, Suspended, Open) != Open)
        {
            Volatile.Write(ref _resumed, null); // a write is in, or the request ended
            return;
        }
        _connection.OnUpgradedSuspending(this);
        if (_transport.TrySuspend())
        {
            _transport.OnLoopSuspended(); // this read is the suspension's loop part; a resume may come from here on
            return;
        }
        _connection.OnUpgradedSuspendRefused();
        Reopen();
    }

    /// <summary>The connection runs again, with new pipes (the transport's resume, under its receive side).</summary>
    internal void OnResumed() => Reopen();

    private void Reopen()
    {
        var resumed = Volatile.Read(ref _resumed);
        Volatile.Write(ref _resumed, null);
        Volatile.Write(ref _gate, Open);
        resumed?.TrySetResult();
    }

    /// <summary>Waits until the connection runs again; a write or the request's end asks for it (<paramref name="wake"/>), a read waits for bytes.</summary>
    private async ValueTask WaitForResumeAsync(bool wake, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _resumed) is not { } resumed)
        {
            return; // reopened meanwhile
        }
        if (wake)
        {
            _transport.RequestResume();
        }
        await resumed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The request is over (the app returned, or the response is being completed): resumes the connection
    /// if it is suspended, and keeps it from suspending again, so the server's own writes and closes find pipes.
    /// </summary>
    internal async ValueTask EndSuspensionsAsync()
    {
        while (true)
        {
            int gate = Volatile.Read(ref _gate);
            if (gate == Ended)
            {
                return;
            }
            if (gate == Suspended)
            {
                await WaitForResumeAsync(wake: true, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            if (Interlocked.CompareExchange(ref _gate, Ended, gate) == gate)
            {
                return; // a write still in leaves the gate as it is (its exit finds Ended)
            }
        }
    }

    /// <summary>Lets a write in: true when it holds the gate (and must give it back), false when there is no gate to hold.</summary>
    private async ValueTask<bool> EnterWriteAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int gate = Interlocked.CompareExchange(ref _gate, Writing, Open);
            if (gate == Open)
            {
                return true;
            }
            if (gate != Suspended)
            {
                return false; // Ended; or Writing, an overlapping write (which the stream does not support) that suspension cannot start under
            }
            await WaitForResumeAsync(wake: true, cancellationToken).ConfigureAwait(false);
        }
    }

    private void ExitWrite() => Interlocked.CompareExchange(ref _gate, Open, Writing);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        bool gated = _transport.CanSuspend && await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _transport.Output.Write(buffer.Span);
            // Through the transport's flush, which counts what is flushed: a suspension needs it all sent.
            var result = await _transport.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted)
            {
                throw new IOException("The connection is closed.");
            }
        }
        finally
        {
            if (gated)
            {
                ExitWrite();
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        bool gated = _transport.CanSuspend && await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _transport.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (gated)
            {
                ExitWrite();
            }
        }
    }

    public override void Flush() => throw new NotSupportedException("Synchronous flushes are not supported on an upgraded connection.");
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use ReadAsync.");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use WriteAsync.");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
