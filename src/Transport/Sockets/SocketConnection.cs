using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using HttpSysLite.Transport.Buffers;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// A connected socket as a duplex pipe: one receive loop fills <see cref="Input"/>, one send loop drains
/// <see cref="Output"/>. Both pipes are bounded, so a slow app stops the reads (TCP backpressure to the
/// client) and a slow client stops the app's writes. Each pipe end has one owner: the loops own the
/// socket sides, the HTTP connection owns the other ends. The first close reason wins.
/// </summary>
internal sealed partial class SocketConnection : EpollRegistration
{
    /// <summary>Input is paused above this many unread bytes (Kestrel's default request buffer is 1 MiB; ours streams).</summary>
    public const int InputPauseThreshold = 64 * 1024;

    /// <summary>How long a closing connection waits for the peer's FIN before it closes regardless.</summary>
    public static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Output writes wait above this many unsent bytes (Kestrel's MaxResponseBufferSize default).</summary>
    public const int OutputPauseThreshold = 64 * 1024;

    /// <summary>
    /// How much of the output an unbuffered write may leave unacknowledged (at least two segments, see
    /// <see cref="SendProgress"/>): Linux's initial socket send buffer (tcp_wmem's default, 16 KiB)
    /// before autotuning grows it, so nothing buffers for the app beyond what is in flight, as with HTTP.sys.
    /// </summary>
    public const int UnbufferedSendWindow = 16 * 1024;

    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly SendProgress _progress;
    private readonly EpollLoop? _loop;
    private readonly LoopScheduler? _inputScheduler;
    private Task _receiveTask = Task.CompletedTask;
    private Task _sendTask = Task.CompletedTask;
    private int _aborted;
    private long _lingerDeadline = long.MaxValue;
    private bool _peerFinished;
    private volatile bool _receiveShutDown;

    public SocketConnection(Socket socket, ConnectionSettings settings)
    {
        long minSendBytesPerSecond = settings.MinSendBytesPerSecond;
        _socket = socket;
        _minSendBytesPerSecond = minSendBytesPerSecond;
        _progress = new SendProgress(socket, minSendBytesPerSecond);
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        var local = (IPEndPoint)socket.LocalEndPoint!;
        // IPv4 peers on the dual-mode socket arrive as ::ffff:a.b.c.d; the app sees plain IPv4.
        RemoteEndPoint = Unmap(remote);
        LocalEndPoint = Unmap(local);

        // Where each loop resumes, chosen by measurement (bench/README.md, server CPU per request on one
        // core). On Linux an epoll loop reads the socket and the connection loop parses heads right
        // there (see EpollLoop); the app's body reads resume on the thread pool, and what the loop
        // thread writes is sent from it. Elsewhere .NET's socket engine reads, the connection loop
        // resumes on the thread pool and the send loop on a shared IOQueue, as Kestrel arranges them.
        _loop = settings.UseSocketEngine ? null : EpollLoop.Next();
        PipeScheduler inputReader = PipeScheduler.ThreadPool;
        PipeScheduler outputReader = IOQueue.Next();
        if (_loop is not null)
        {
            inputReader = _inputScheduler = new LoopScheduler(PipeScheduler.ThreadPool, allowInline: false);
            outputReader = new LoopScheduler(outputReader, allowInline: true);
        }
        _input = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Default, minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: InputPauseThreshold, resumeWriterThreshold: InputPauseThreshold / 2,
            readerScheduler: inputReader,
            // A paused epoll read resumes on the thread pool, not inside the reader's AdvanceTo.
            writerScheduler: _loop is null ? PipeScheduler.Inline : PipeScheduler.ThreadPool,
            useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Default, minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: OutputPauseThreshold, resumeWriterThreshold: OutputPauseThreshold / 2,
            readerScheduler: outputReader, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    }

    /// <summary>True on an epoll loop thread, where the app must not run (the HTTP connection hops off first).</summary>
    public static bool OnLoopThread => EpollLoop.OnLoopThread;

    /// <summary>
    /// Set while the HTTP connection waits for a request head: a read completed by the epoll loop then
    /// continues on the loop thread. Cleared before the app runs, whose reads resume on the thread pool.
    /// </summary>
    public bool ReadsOnLoopThread
    {
        set
        {
            if (_inputScheduler is not null)
            {
                _inputScheduler.AllowInline = value;
            }
        }
    }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The request bytes, owned by the HTTP connection.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>The response bytes, owned by the HTTP connection.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Fires once when the peer closes or resets, or the connection is aborted.</summary>
    public CancellationToken ConnectionClosed => _closed.Token;

    /// <summary>Flushes <see cref="Output"/>; every flush of the response bytes goes through here, so unbuffered writes know what to wait for.</summary>
    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        _progress.OnFlushing(_output.Writer.UnflushedBytes);
        return _output.Writer.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Completes once no more than <paramref name="window"/> bytes of what was flushed so far are
    /// unacknowledged by the client, in the output buffer or the socket (an unbuffered write).
    /// </summary>
    public ValueTask WhenSentAsync(int window, CancellationToken cancellationToken) => _progress.WaitAsync(window, cancellationToken);

    public void Start()
    {
        if (_loop is not null)
        {
            StartEpoll();
            return;
        }
        _receiveTask = ReceiveLoopAsync();
        _sendTask = SendLoopAsync();
    }

    /// <summary>
    /// Ends the connection at once: unsent output is dropped, and the peer sees the stream end (FIN,
    /// as Kestrel's abort does) after what was already sent, so a cut-short body is visibly short.
    /// Idempotent; safe from any thread.
    /// </summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }
        _output.Reader.CancelPendingRead();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer or by the loops: nothing left to end.
        }
        _socket.Dispose();
        if (_loop is not null)
        {
            _loop.Unregister(this);
            RequestReceiveEnd(); // closing the socket removed it from epoll: no event will end the receive side
        }
        SignalClosed();
        _progress.OnConnectionClosed();
        _progress.Dispose();
    }

    /// <summary>
    /// Says the client sends nothing more and all it sent was read (it asked to close, RFC 9112 section
    /// 9.6): closing then cannot reset the response, so the connection ends without waiting a round trip
    /// for the client's FIN. Call before completing <see cref="Output"/>.
    /// </summary>
    public void OnPeerFinished() => Volatile.Write(ref _peerFinished, true);

    /// <summary>Waits for both loops once the HTTP connection has completed its pipe ends, then releases the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        await _sendTask.ConfigureAwait(false);
        if (!_receiveTask.IsCompleted)
        {
            // Otherwise the send loop has sent everything and our FIN; a client that read its response
            // closes too. Wait for that (bounded: the heartbeat aborts past the deadline, see
            // IsLingerExpired), so input we did not read does not turn our close into a reset that
            // destroys the response. The same bound covers a platform where ending the receive side
            // does not wake a pending receive.
            Volatile.Write(ref _lingerDeadline, Environment.TickCount64 + (long)LingerTimeout.TotalMilliseconds);
            if (_peerFinished && !_receiveShutDown)
            {
                ShutdownReceive();
            }
        }
        await _receiveTask.ConfigureAwait(false);
        _socket.Dispose();
        _loop?.Unregister(this);
        SignalClosed();
        _progress.OnConnectionClosed();
        _progress.Dispose();
        _closed.Dispose();
    }

    /// <summary>True when a closing connection has waited for the client's FIN past <see cref="LingerTimeout"/> (the heartbeat then aborts it).</summary>
    public bool IsLingerExpired(long now) => now >= Volatile.Read(ref _lingerDeadline);

    private void ShutdownReceive()
    {
        _receiveShutDown = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Receive); // a pending receive completes with 0 bytes
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already reset or closed: the receive loop ends by itself.
        }
    }

    private void SignalClosed()
    {
        if (EpollLoop.OnLoopThread)
        {
            // The token's callbacks reach the app (RequestAborted): not on the loop thread.
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.SignalClosed(), this, preferLocal: false);
            return;
        }
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed after both loops ended: nobody is listening any more.
        }
    }

    private static IPEndPoint Unmap(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
