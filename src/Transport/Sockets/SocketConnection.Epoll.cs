using System.Buffers;
using System.IO.Pipelines;
using HttpSysLite.Transport.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace HttpSysLite.Transport.Sockets;

internal sealed partial class SocketConnection
{
    // Bytes read after the HTTP connection stopped reading are thrown away here; nobody looks at them.
    private static readonly byte[] s_discard = new byte[4096];

    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action? _onFlushed;
    private ConfiguredValueTaskAwaitable<FlushResult> _pendingFlush;
    private int _receiveOwner;
    private int _receiveSignaled;
    private volatile bool _abortRequested;
    private volatile bool _peerClosed;
    private bool _discarding;
    private int _writable;
    private SocketWriteWaiter? _writeWaiter;

    /// <summary>Called on the loop thread for each epoll event of this socket.</summary>
    internal override void OnEpollEvent(uint events)
    {
        if ((events & (EpollInterop.EPOLLIN | EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLHUP | EpollInterop.EPOLLERR)) != 0)
        {
            if ((events & (EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLHUP | EpollInterop.EPOLLERR)) != 0)
            {
                _peerClosed = true; // the end is only seen by reading past the data: no short read means drained now
            }
            Volatile.Write(ref _receiveSignaled, 1);
            if (Interlocked.CompareExchange(ref _receiveOwner, 1, 0) == 0)
            {
                ReceiveWhileSignaled();
            }
        }
        if ((events & (EpollInterop.EPOLLOUT | EpollInterop.EPOLLHUP | EpollInterop.EPOLLERR)) != 0)
        {
            ReleaseWriter();
        }
    }

    internal override void OnEpollEventFailed(Exception exception) => Abort();

    private void ReleaseWriter()
    {
        Volatile.Write(ref _writable, 1);
        Volatile.Read(ref _writeWaiter)?.Release();
    }

    /// <summary>
    /// Sends with non-blocking calls and waits for EPOLLOUT when the socket's buffer is full, so the
    /// socket never enters .NET's engine (which would then wake for every byte that arrives too).
    /// A buffer that spans segments goes out in one gather write (<see cref="GatherSend"/>).
    /// </summary>
    private async ValueTask SendNonBlockingAsync(ReadOnlySequence<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            Volatile.Write(ref _writable, 0); // cleared before the attempt: an edge after a full buffer is kept
            int sent;
            SocketError error;
            if (buffer.IsSingleSegment)
            {
                sent = _socket.Send(buffer.FirstSpan, SocketFlags.None, out error);
            }
            else
            {
                long gathered = GatherSend.Send(_socket, buffer, out bool full);
                if (gathered >= 0)
                {
                    sent = (int)gathered;
                    error = SocketError.Success;
                }
                else if (full)
                {
                    sent = 0;
                    error = SocketError.WouldBlock;
                }
                else
                {
                    // A failure: .NET's send meets it too and names it as it would (reset, pipe, ...).
                    sent = _socket.Send(Gather(buffer), SocketFlags.None, out error);
                }
            }
            if (error == SocketError.WouldBlock)
            {
                // The client is not taking bytes as fast as we send them.
                var waiter = _writeWaiter;
                if (waiter is null)
                {
                    Volatile.Write(ref _writeWaiter, waiter = new SocketWriteWaiter());
                }
                StartSendTimer(buffer.Length);
                await waiter.WaitAsync(ref _writable).ConfigureAwait(false);
                StopSendTimer();
                continue;
            }
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }
            buffer = buffer.Slice(sent);
            _progress.OnSent(sent);
        }
    }

    private void StartEpoll()
    {
        _receiveTask = _receiveEnded.Task;
        _sendTask = SendLoopAsync();
        try
        {
            _socket.Blocking = false; // reads below return WouldBlock instead of waiting
            _loop!.Register(this, (int)_socket.Handle,
                EpollInterop.EPOLLIN | EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLOUT | EpollInterop.EPOLLET);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _receiveOwner = 1;
            EndReceive(new ConnectionResetException(ex));
            Abort();
        }
    }

    /// <summary>
    /// Reads while events keep arriving; the caller owns the receive side (<see cref="_receiveOwner"/>).
    /// Ownership is kept while a flush waits for the HTTP connection to read (input above its pause
    /// threshold: reading stops, and TCP pushes back on the client) and after the receive side ended.
    /// </summary>
    private void ReceiveWhileSignaled()
    {
        while (true)
        {
            Volatile.Write(ref _receiveSignaled, 0);
            if (!ReceiveAvailable())
            {
                return;
            }
            Volatile.Write(ref _receiveOwner, 0);
            // An event that arrived while this thread owned the receive side found it taken: look again.
            if (Volatile.Read(ref _receiveSignaled) == 0 && !_abortRequested)
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _receiveOwner, 1, 0) != 0)
            {
                return;
            }
        }
    }

    /// <summary>Reads until the socket has nothing more; false if the receive side ended or waits on a flush.</summary>
    private bool ReceiveAvailable()
    {
        var writer = _input.Writer;
        while (true)
        {
            if (_abortRequested)
            {
                EndReceive(null);
                return false;
            }
            Memory<byte> memory = _discarding ? s_discard : writer.GetMemory(BlockMemoryPool.BlockSize);
            int received;
            SocketError error;
            try
            {
                received = _socket.Receive(memory.Span, SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                EndReceive(null); // aborted
                return false;
            }
            if (error == SocketError.WouldBlock)
            {
                return true;
            }
            if (error != SocketError.Success)
            {
                var exception = new SocketException((int)error);
                EndReceive(SocketErrors.IsConnectionReset(error) ? new ConnectionResetException(exception) : exception);
                return false;
            }
            if (received == 0)
            {
                EndReceive(null); // FIN: the client has finished sending (or we ended the receive side)
                return false;
            }
            if (!_discarding)
            {
                writer.Advance(received);
                var flush = writer.FlushAsync().ConfigureAwait(false);
                var awaiter = flush.GetAwaiter();
                if (!awaiter.IsCompleted)
                {
                    _pendingFlush = flush;
                    awaiter.UnsafeOnCompleted(_onFlushed ??= OnFlushed);
                    return false;
                }
                ObserveFlush(awaiter.GetResult());
            }
            if (received < memory.Length && !_peerClosed)
            {
                return true; // a short read: TCP had no more (and no FIN or error is waiting behind the data)
            }
        }
    }

    private void OnFlushed()
    {
        var result = _pendingFlush.GetAwaiter().GetResult();
        _pendingFlush = default;
        ObserveFlush(result);
        // Edge-triggered: bytes that arrived while paused raised no new event. Read them now.
        Volatile.Write(ref _receiveSignaled, 1);
        ReceiveWhileSignaled();
    }

    /// <summary>
    /// The HTTP connection stopped reading (it is closing): what still comes is discarded until the
    /// peer's FIN, since closing with unread input would send RST, and an RST can destroy the response
    /// the client has not read yet (a "lingering close").
    /// </summary>
    private void ObserveFlush(FlushResult result)
    {
        if (result.IsCompleted || result.IsCanceled)
        {
            _discarding = true;
        }
    }

    private void EndReceive(Exception? error)
    {
        _input.Writer.Complete(error);
        SignalClosed();
        _receiveEnded.TrySetResult();
    }

    /// <summary>Makes the owner of the receive side, or this thread, end it (Abort, from any thread).</summary>
    private void RequestReceiveEnd()
    {
        _abortRequested = true;
        _input.Writer.CancelPendingFlush();
        ReleaseWriter(); // a send waiting for EPOLLOUT would wait forever: the socket left epoll when it closed
        if (Interlocked.CompareExchange(ref _receiveOwner, 1, 0) == 0)
        {
            ReceiveWhileSignaled();
        }
    }
}
