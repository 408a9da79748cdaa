using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using HttpSysLite.Transport.Buffers;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The seam between the HTTP connection and whatever carries its bytes (the role of Kestrel's
/// ConnectionContext): two bounded pipes, the two endpoints, close and abort, and the hook that leaves
/// an I/O loop thread before the app runs. A transport supplies how bytes arrive (it fills
/// <see cref="Input"/> from <see cref="StartReceiving"/>) and how they leave (<see cref="SendAsync"/>,
/// <see cref="EndOutput"/>); the send loop, the lingering close, abort and the MinSendBytesPerSecond
/// deadlines are written once, here. Each pipe end has one owner: the transport owns the network
/// sides, the HTTP connection the others. The first close reason wins.
/// </summary>
internal abstract class TransportConnection
{
    /// <summary>Input is paused above this many unread bytes (Kestrel's default request buffer is 1 MiB; ours streams).</summary>
    public const int InputPauseThreshold = 64 * 1024;

    /// <summary>How long a closing connection waits for the peer's FIN before it closes regardless.</summary>
    public static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The linger of a connection turned away at accept (MaxConnections): its descriptor is what is short.</summary>
    public static readonly TimeSpan BriefLingerTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>Output writes wait above this many unsent bytes (Kestrel's MaxResponseBufferSize default).</summary>
    public const int OutputPauseThreshold = 64 * 1024;

    /// <summary>
    /// How much of the output an unbuffered write may leave unacknowledged (at least two segments, see
    /// <see cref="SendProgress"/>): Linux's initial socket send buffer (tcp_wmem's default, 16 KiB)
    /// before autotuning grows it, so nothing buffers for the app beyond what is in flight, as with HTTP.sys.
    /// </summary>
    public const int UnbufferedSendWindow = 16 * 1024;

    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly SendProgress _progress;
    private readonly long _minSendBytesPerSecond;
    private Task _receiveTask = Task.CompletedTask;
    private Task _sendTask = Task.CompletedTask;
    private int _aborted;
    private bool _peerFinished;
    private bool _lingerBriefly;
    private volatile bool _receiveShutDown;
    private volatile bool _outputEnded; // the send loop's: all output sent, then our FIN

    /// <param name="local">The local endpoint, as the app sees it.</param>
    /// <param name="remote">The peer's endpoint, as the app sees it.</param>
    /// <param name="settings">The port's settings (MinSendBytesPerSecond).</param>
    /// <param name="clock">The driver's clock, which every deadline reads.</param>
    /// <param name="inputReader">Where the HTTP connection's reads resume.</param>
    /// <param name="inputWriter">Where a paused receive resumes.</param>
    /// <param name="outputReader">Where the send loop resumes after a flush.</param>
    protected TransportConnection(IPEndPoint local, IPEndPoint remote, ConnectionSettings settings, MillisecondClock clock,
        PipeScheduler inputReader, PipeScheduler inputWriter, PipeScheduler outputReader)
    {
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        _minSendBytesPerSecond = settings.MinSendBytesPerSecond;
        Timeouts = new ConnectionTimeouts(clock);
        _progress = new SendProgress(this, _minSendBytesPerSecond);
        _input = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Default, minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: InputPauseThreshold, resumeWriterThreshold: InputPauseThreshold / 2,
            readerScheduler: inputReader, writerScheduler: inputWriter, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Default, minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: OutputPauseThreshold, resumeWriterThreshold: OutputPauseThreshold / 2,
            readerScheduler: outputReader, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The request bytes, owned by the HTTP connection.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>The response bytes, owned by the HTTP connection.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>
    /// Fires once when the peer resets, a send fails, the connection is aborted, or both directions have
    /// ended; not at the peer's FIN alone (see <see cref="CompleteInput"/>).
    /// </summary>
    public CancellationToken ConnectionClosed => _closed.Token;

    /// <summary>
    /// Why the input ended when the peer reset the connection (null for a FIN or while it lasts); set
    /// before <see cref="Input"/> completes, so a reader that saw the completion sees it.
    /// </summary>
    public ConnectionResetException? InputReset { get; private set; }

    /// <summary>Every deadline of this connection, which the driver's heartbeat checks.</summary>
    public ConnectionTimeouts Timeouts { get; }

    /// <summary>The driver's id for the connection (set before <see cref="Start"/>), for traces.</summary>
    public ulong Id { get; set; }

    /// <summary>What the TLS handshake settled; null on a plain port (and before the handshake).</summary>
    public virtual Tls.TlsConnectionInfo? Tls => null;

    /// <summary>
    /// Asks the client for a certificate after the handshake, where the port allows it (a TLS port set
    /// to ask on request); elsewhere, what the connection has already.
    /// </summary>
    public virtual ValueTask<System.Security.Cryptography.X509Certificates.X509Certificate2?> ReceiveClientCertificateAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(Tls?.ClientCertificate);

    /// <summary>True on this transport's I/O loop thread, where nothing may block (the app must not run there).</summary>
    public virtual bool OnLoopThread => false;

    /// <summary>The transport's network side of the input pipe (its receive path only).</summary>
    protected PipeWriter InputWriter => _input.Writer;

    /// <summary>True once the receive side was ended on purpose (nothing more is read).</summary>
    protected bool ReceiveShutDown => _receiveShutDown;

    /// <summary>
    /// The HTTP connection waits for a request head: a read the I/O loop completes may continue on that
    /// thread, so a head is parsed (and a cache hit or a rejection answered) where its bytes were read.
    /// </summary>
    public virtual void AllowReadsOnLoopThread()
    {
    }

    /// <summary>
    /// The app is about to run: reads resume off the I/O loop from now on. True when the caller is on
    /// the loop thread and must leave it first (the app may block).
    /// </summary>
    public virtual bool LeaveLoopThread() => false;

    /// <summary>Flushes <see cref="Output"/>; every flush of the response bytes goes through here, so unbuffered writes know what to wait for.</summary>
    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        // Counted by what the flush committed: one whose token was cancelled already commits nothing, and
        // its bytes are counted by the flush that does send them.
        var writer = _output.Writer;
        long unflushed = writer.UnflushedBytes;
        var flush = writer.FlushAsync(cancellationToken);
        _progress.OnFlushing(unflushed - writer.UnflushedBytes);
        return flush;
    }

    /// <summary>
    /// Completes once no more than <paramref name="window"/> bytes of what was flushed so far are
    /// unacknowledged by the client, in the output buffer or the transport (an unbuffered write).
    /// </summary>
    public ValueTask WhenSentAsync(int window, CancellationToken cancellationToken) => _progress.WaitAsync(window, cancellationToken);

    /// <summary>Starts the send loop and the transport's receive path.</summary>
    public void Start()
    {
        _sendTask = SendLoopAsync();
        _receiveTask = StartReceiving();
    }

    /// <summary>
    /// Ends the connection at once: unsent output is dropped and, unless the output had already ended
    /// whole (all of it sent, then our FIN), the peer sees a reset, not a FIN. A response cut short must
    /// not read as a whole one, and after a FIN a close-delimited body does (RFC 9112 section 8: only an
    /// error of the connection marks it incomplete). Once the output has ended there is nothing left to
    /// cut, and a reset could only destroy what the client has not read yet (a linger that gives up on
    /// the client's FIN). Idempotent; safe from any thread.
    /// </summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }
        _output.Reader.CancelPendingRead();
        AbortTransport(reset: !_outputEnded);
        SignalClosed();
        _progress.OnConnectionClosed();
    }

    /// <summary>
    /// Says the client sends nothing more and all it sent was read (it asked to close, RFC 9112 section
    /// 9.6): closing then cannot reset the response, so the connection ends without waiting a round trip
    /// for the client's FIN. Call before completing <see cref="Output"/>.
    /// </summary>
    public void OnPeerFinished() => Volatile.Write(ref _peerFinished, true);

    /// <summary>Closing waits only <see cref="BriefLingerTimeout"/> for the peer's FIN (a connection turned away). Call before completing <see cref="Output"/>.</summary>
    public void LingerBriefly() => _lingerBriefly = true;

    /// <summary>Waits for both directions once the HTTP connection has completed its pipe ends, then releases the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        await _sendTask.ConfigureAwait(false);
        if (!_receiveTask.IsCompleted)
        {
            // Otherwise the send loop has sent everything and our FIN; a client that read its response
            // closes too. Wait for that (bounded: the heartbeat aborts past the deadline, see
            // ConnectionTimeouts.IsLingerExpired), so input we did not read does not turn our close into
            // a reset that destroys the response. The same bound covers a platform where ending the
            // receive side does not wake a pending receive.
            Timeouts.StartLinger(_lingerBriefly ? BriefLingerTimeout : LingerTimeout);
            if (Volatile.Read(ref _peerFinished) && !_receiveShutDown)
            {
                ShutdownReceive();
            }
        }
        await _receiveTask.ConfigureAwait(false);
        ReleaseTransport();
        SignalClosed();
        _progress.OnConnectionClosed();
        // _closed is not disposed: it has no timer or wait handle to release, and a SignalClosed queued from
        // the I/O loop may still run after this point (cancelling a disposed source throws).
    }

    /// <summary>Bytes the transport took but the peer has not acknowledged yet (0 where that cannot be known).</summary>
    internal virtual long UnacknowledgedBytes() => 0;

    /// <summary>The transport's segment size, for the unbuffered window's floor.</summary>
    internal virtual int MaximumSegmentSize() => 1460;

    /// <summary>Starts filling <see cref="InputWriter"/>; the task ends when the receive side has ended and the writer is completed.</summary>
    protected abstract Task StartReceiving();

    /// <summary>Sends <paramref name="buffer"/> whole; waiting on the peer arms <see cref="StartSendTimer"/>.</summary>
    protected abstract ValueTask SendAsync(ReadOnlySequence<byte> buffer);

    /// <summary>Everything is sent: end our direction (FIN), or both when the peer has finished too.</summary>
    protected abstract void EndOutput(bool bothDirections);

    /// <summary>Ends the receive side so a pending receive completes (a lingering close the client has no part in).</summary>
    protected abstract void EndReceiveSide();

    /// <summary>
    /// Ends the transport at once (abort): stops receiving and sending. With <paramref name="reset"/> the
    /// output did not end whole, and the peer must see a reset (RST), never a FIN.
    /// </summary>
    protected abstract void AbortTransport(bool reset);

    /// <summary>Releases the transport once both directions ended.</summary>
    protected abstract void ReleaseTransport();

    /// <summary>A send the peer holds up: the MinSendBytesPerSecond deadline for <paramref name="length"/> bytes.</summary>
    protected void StartSendTimer(long length) => Timeouts.StartSendTimer(length, _minSendBytesPerSecond);

    protected void StopSendTimer() => Timeouts.StopSendTimer();

    /// <summary>Counts bytes handed to the network, and releases an unbuffered write they were holding up.</summary>
    protected void OnSent(long bytes) => _progress.OnSent(bytes);

    /// <summary>
    /// The receive side ended: completes the input, with <paramref name="error"/> when it failed. A clean
    /// end (the client's FIN) says only that the client sends nothing more; a half-closed client still
    /// reads (RFC 9112 section 9.6), so the HTTP connection answers what it has and then closes, and the
    /// request in flight is not aborted. Only a failure (a reset) fires <see cref="ConnectionClosed"/>.
    /// </summary>
    protected void CompleteInput(Exception? error)
    {
        if (error is ConnectionResetException reset)
        {
            // A reset ends the input as a FIN does: a pipe completed with an error throws from every read,
            // and a client that resets between requests is a usual end of a connection, not a failure to
            // throw about. A read that needed more (a body cut short) asks InputReset why it ended.
            InputReset = reset;
            _input.Writer.Complete();
        }
        else
        {
            _input.Writer.Complete(error);
        }
        if (error is not null)
        {
            SignalClosed();
        }
    }

    /// <summary>Ends the receive side on purpose (a pending receive then completes with nothing).</summary>
    protected void ShutdownReceive()
    {
        _receiveShutDown = true;
        EndReceiveSide();
    }

    /// <summary>Fires <see cref="ConnectionClosed"/> (idempotent); its callbacks reach the app, so never on the I/O loop.</summary>
    protected void SignalClosed()
    {
        if (OnLoopThread)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.SignalClosed(), this, preferLocal: false);
            return;
        }
        _closed.Cancel();
    }

    /// <summary>
    /// The send loop: everything written and flushed since the last send goes out in one call (a gather
    /// write when it spans segments), which is what makes pipelined responses cheap.
    /// </summary>
    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    return; // aborted: the transport resets; a FIN from here would race that reset
                }
                if (!buffer.IsEmpty)
                {
                    await SendAsync(buffer).ConfigureAwait(false);
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
            // Everything is sent: a graceful FIN tells the client the response is whole. If the client has
            // finished too, one call ends both directions, and the receive side with it.
            bool both = Volatile.Read(ref _peerFinished);
            if (both)
            {
                _receiveShutDown = true;
            }
            EndOutput(both);
            _outputEnded = true;
        }
        catch (Exception ex) when (SocketErrors.IsConnectionGone(ex))
        {
            error = new ConnectionResetException(ex);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await reader.CompleteAsync(error).ConfigureAwait(false);
            if (error is not null)
            {
                SignalClosed();
            }
            // Nothing more reaches the peer: a write waiting for its bytes to go out never will.
            _progress.OnConnectionClosed();
        }
    }
}
