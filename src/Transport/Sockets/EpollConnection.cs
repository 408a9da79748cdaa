using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HttpSysLite.Transport.Buffers;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// A socket served by an epoll loop (Linux). The loop reads the socket on its own thread and, while
/// the HTTP connection waits for a head, runs the head's parsing right there, so a cache hit or a
/// rejection never changes threads; the app's body reads resume on the thread pool, and what the loop
/// thread writes is sent from it. Sends are non-blocking and wait for EPOLLOUT when the socket's
/// buffer is full, so the socket never enters .NET's engine. Where each loop resumes was chosen by
/// measurement (bench/README.md, server CPU per request on one core).
/// </summary>
internal sealed class EpollConnection : SocketConnection, IEpollRegistration
{
    // Bytes read after the HTTP connection stopped reading are thrown away here; nobody looks at them.
    private static readonly byte[] s_discard = new byte[4096];

    private readonly EpollLoop _loop;
    private readonly LoopScheduler _inputScheduler;
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action? _onFlushed;
    private ConfiguredValueTaskAwaitable<FlushResult> _pendingFlush;
    private int _receiveOwner;
    private int _receiveSignaled;
    private volatile bool _abortRequested;
    private volatile bool _peerClosed;
    private bool _discarding;
    private int _writable;
    private ReadinessWaiter? _writeWaiter;

    public EpollConnection(Socket socket, ConnectionSettings settings, MillisecondClock clock, EpollLoop loop)
        : this(socket, settings, clock, loop, new LoopScheduler(PipeScheduler.ThreadPool, allowInline: false))
    {
    }

    private EpollConnection(Socket socket, ConnectionSettings settings, MillisecondClock clock, EpollLoop loop, LoopScheduler inputScheduler)
        : base(socket, settings, clock,
            inputReader: inputScheduler,
            // A paused epoll read resumes on the thread pool, not inside the reader's AdvanceTo.
            inputWriter: PipeScheduler.ThreadPool,
            outputReader: NextOutputScheduler())
    {
        _loop = loop;
        _inputScheduler = inputScheduler;
    }

    // The send loops' schedulers: one per IOQueue, shared, as they hold no state of a connection's
    // (an object per connection would be 32 B more an idle connection keeps).
    private static readonly LoopScheduler[] s_outputSchedulers = Array.ConvertAll(IOQueue.Shared, q => new LoopScheduler(q, allowInline: true));
    private static int s_nextOutput;

    public int EpollSlot { get; set; } = -1;

    public uint EpollToken { get; set; }

    public override bool OnLoopThread => EpollLoop.OnLoopThread;

    private static LoopScheduler NextOutputScheduler() =>
        s_outputSchedulers[(int)((uint)Interlocked.Increment(ref s_nextOutput) % (uint)s_outputSchedulers.Length)];

    /// <summary>The socket stays in epoll while suspended: its next event resumes the connection.</summary>
    public override bool CanSuspend => true;

    public override void AllowReadsOnLoopThread() => _inputScheduler.AllowInline = true;

    public override bool LeaveLoopThread()
    {
        _inputScheduler.AllowInline = false;
        return EpollLoop.OnLoopThread;
    }

    /// <summary>Called on the loop thread for each epoll event of this socket.</summary>
    void IEpollRegistration.OnEpollEvent(uint events)
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

    void IEpollRegistration.OnEpollEventFailed(Exception exception) => Abort();

    protected override Task StartReceiving()
    {
        try
        {
            // Reads below return WouldBlock instead of waiting. Not Socket.Blocking, nor .NET's receive
            // and send: each gives the socket engine state this connection never uses.
            NonBlockingSocket.SetNonBlocking(Socket);
            _loop.Register(this, (int)Socket.Handle,
                EpollInterop.EPOLLIN | EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLOUT | EpollInterop.EPOLLET);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _receiveOwner = 1;
            EndReceive(new ConnectionResetException(ex));
            Abort();
        }
        return _receiveEnded.Task;
    }

    protected override void AbortTransport(bool reset)
    {
        base.AbortTransport(reset);
        _loop.Unregister(this);
        RequestReceiveEnd(); // closing the socket removed it from epoll: no event will end the receive side
    }

    protected override void ReleaseTransport()
    {
        base.ReleaseTransport();
        _loop.Unregister(this);
    }

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
    protected override async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            Volatile.Write(ref _writable, 0); // cleared before the attempt: an edge after a full buffer is kept
            int sent;
            SocketError error;
            if (buffer.IsSingleSegment)
            {
                sent = NonBlockingSocket.Send(Socket, buffer.FirstSpan, out error);
            }
            else
            {
                sent = (int)GatherSend.Send(Socket, buffer, out error);
            }
            if (error == SocketError.WouldBlock)
            {
                // The client is not taking bytes as fast as we send them.
                var waiter = _writeWaiter;
                if (waiter is null)
                {
                    Volatile.Write(ref _writeWaiter, waiter = new ReadinessWaiter(continueOnLoop: false)); // the send loop resumes on the thread pool, never inside the epoll loop
                }
                StartSendTimer(buffer.Length);
                await waiter.WaitAsync(ref _writable, CancellationToken.None).ConfigureAwait(false);
                StopSendTimer();
                continue;
            }
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }
            buffer = buffer.Slice(sent);
            OnSent(sent);
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
            if (IsSuspended)
            {
                // Bytes, the peer's FIN or reset, an abort, a deadline or a close: run the connection again,
                // then read into its new input as for any event.
                Resume();
            }
            if (!ReceiveAvailable())
            {
                return;
            }
            Volatile.Write(ref _receiveOwner, 0);
            // An event that arrived while this thread owned the receive side found it taken: look again.
            if (!HasNoteWaiting() || Interlocked.CompareExchange(ref _receiveOwner, 1, 0) != 0)
            {
                return;
            }
        }
    }

    /// <summary>Something came for the receive side while another held it: an event, an abort, or a wake for a suspended connection.</summary>
    private bool HasNoteWaiting() =>
        Volatile.Read(ref _receiveSignaled) != 0 || _abortRequested || (IsSuspended && WakePending);

    /// <summary>A suspension takes the receive side as an event would, and only when nothing waits to be read.</summary>
    protected override bool TryTakeReceiveSide()
    {
        if (_peerClosed || _discarding || _abortRequested || Interlocked.CompareExchange(ref _receiveOwner, 1, 0) != 0)
        {
            return false; // the peer's end is being read, input is thrown away, or bytes are being read now
        }
        if (Volatile.Read(ref _receiveSignaled) != 0 || _peerClosed || _abortRequested)
        {
            ReleaseReceiveSide(); // an event came as the loop decided: read it instead
            return false;
        }
        return true;
    }

    protected override void ReleaseReceiveSide()
    {
        Volatile.Write(ref _receiveOwner, 0);
        if (HasNoteWaiting() && Interlocked.CompareExchange(ref _receiveOwner, 1, 0) == 0)
        {
            ReceiveWhileSignaled();
        }
    }

    protected override void OnWakeRequested()
    {
        Volatile.Write(ref _receiveSignaled, 1);
        if (Interlocked.CompareExchange(ref _receiveOwner, 1, 0) == 0)
        {
            ReceiveWhileSignaled();
        }
    }

    /// <summary>Reads until the socket has nothing more; false if the receive side ended or waits on a flush.</summary>
    private bool ReceiveAvailable()
    {
        var writer = InputWriter;
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
                received = NonBlockingSocket.Receive(Socket, memory.Span, out error);
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
        CompleteInput(error);
        _receiveEnded.TrySetResult();
    }

    /// <summary>Makes the owner of the receive side, or this thread, end it (Abort, from any thread).</summary>
    private void RequestReceiveEnd()
    {
        _abortRequested = true;
        CurrentInputWriter?.CancelPendingFlush(); // none while suspended: the resume that follows sees the abort
        ReleaseWriter(); // a send waiting for EPOLLOUT would wait forever: the socket left epoll when it closed
        if (Interlocked.CompareExchange(ref _receiveOwner, 1, 0) == 0)
        {
            ReceiveWhileSignaled();
        }
    }
}
