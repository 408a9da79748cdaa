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
/// A transport that can (<see cref="CanSuspend"/>: epoll) lets an idle connection give its pipes and
/// its loops up (<see cref="TrySuspend"/>): while suspended the connection is this object, its socket
/// and its deadlines; what wakes it (bytes, the peer's FIN or reset, a deadline, a close, an abort)
/// makes new pipes and runs the loops again (<see cref="Resume"/>).
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

    // Suspension (docs/design.md section 12): Active, then Suspending while the HTTP loop and the send
    // loop end (_suspendParts counts them down), then Suspended with no pipes, then Active again.
    private const int Active = 0;
    private const int Suspending = 1;
    private const int Suspended = 2;

    private readonly PipeScheduler _inputReaderScheduler;
    private readonly PipeScheduler _inputWriterScheduler;
    private readonly PipeScheduler _outputReaderScheduler;
    // The current pipes: replaced only by Resume (under the transport's receive side, while suspended),
    // dropped at the end of a suspension. Another thread that reads them may find a pipe that was given
    // up; what it does there (cancel a read) reaches nobody, and the wake it meant is kept in _wakePending.
    private Pipe? _input;
    private Pipe? _output;
    private int _suspendState;
    private int _suspendParts;
    private int _wakePending;
    // A resume asked for by a write (or the end of the request) on a suspended upgraded connection: unlike
    // a wake, it cancels no read (the stream's reader would take a cancel for the end of the stream).
    private int _resumeWanted;
    // The send loop's: 0 while it runs, 1 once it ended on its own; 2 when a suspension asked it to end
    // first (then it ends as a part of the suspension, whatever ends it).
    private int _sendLoopState;
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
        _inputReaderScheduler = inputReader;
        _inputWriterScheduler = inputWriter;
        _outputReaderScheduler = outputReader;
        CreatePipes();
    }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The request bytes, owned by the HTTP connection (while its loop runs: not while suspended).</summary>
    public PipeReader Input => _input!.Reader;

    /// <summary>The response bytes, owned by the HTTP connection (while its loop runs: not while suspended).</summary>
    public PipeWriter Output => _output!.Writer;

    /// <summary>The HTTP connection's loop, which <see cref="Resume"/> runs again (set before <see cref="Start"/>).</summary>
    public IConnectionLoop? Loop { get; set; }

    /// <summary>
    /// Whether an idle connection may give its pipes and loops up (<see cref="TrySuspend"/>): where the
    /// transport watches the socket itself while nobody reads (epoll), not where a pending receive is the
    /// only way to hear from it.
    /// </summary>
    public virtual bool CanSuspend => false;

    /// <summary>True while suspended: no pipes, no loop waiting (the receive side's holder asks before reading; tests ask too).</summary>
    public bool IsSuspended => Volatile.Read(ref _suspendState) == Suspended;

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
    protected PipeWriter InputWriter => _input!.Writer;

    /// <summary>The input pipe's network side if there is one now (null while suspended), for a cancel from another thread.</summary>
    protected PipeWriter? CurrentInputWriter => _input?.Writer;

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
        var writer = _output!.Writer;
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
    /// Cancels the HTTP connection's pending read so its loop looks at why (a deadline, a close; it keeps
    /// the reason itself); a suspended connection is resumed for it, with its first read cancelled.
    /// Safe from any thread.
    /// </summary>
    public void CancelPendingRead()
    {
        if (CanSuspend)
        {
            // Kept until a resume or a suspension takes it: whichever pipe this cancel reaches, the loop that
            // reads next hears of it (a suspension that finds it pending does not happen).
            Volatile.Write(ref _wakePending, 1);
        }
        if (Volatile.Read(ref _suspendState) == Active)
        {
            _input?.Reader.CancelPendingRead();
        }
        if (CanSuspend)
        {
            OnWakeRequested();
        }
    }

    /// <summary>
    /// Runs a suspended (or suspending) connection again without cancelling its reads: a write on an
    /// upgraded stream needs the pipes back. Refuses a suspension that has not yet taken the receive side.
    /// Safe from any thread.
    /// </summary>
    public void RequestResume()
    {
        if (CanSuspend)
        {
            Volatile.Write(ref _resumeWanted, 1);
            OnWakeRequested();
        }
    }

    /// <summary>
    /// The HTTP connection's loop would wait for a next request and has waited long already: gives the
    /// pipes up, so an idle connection holds neither them nor a waiting loop. True when the transport took
    /// the connection: the caller's pipe ends are completed for it, and it returns without touching them,
    /// then calls <see cref="OnLoopSuspended"/> as its last act. False, and nothing changed, when the
    /// connection is not quiet: input arrived or waits to be read, output is not all sent, it is closing.
    /// Only from the input's reader (the HTTP connection's loop, or an upgraded stream's read), with
    /// nothing of a request buffered; the output's writer must be quiet (an upgraded stream holds its gate).
    /// </summary>
    public bool TrySuspend()
    {
        if (!CanSuspend || Volatile.Read(ref _aborted) != 0 || !_progress.AllSent || _output!.Writer.UnflushedBytes != 0)
        {
            return false;
        }
        if (!TryTakeReceiveSide())
        {
            return false;
        }
        // The receive side is held from here until the suspension is over: what arrives meanwhile is noted,
        // and seen when it is released (OnSuspendPartEnded). But bytes the receive side wrote before it was taken
        // (after the loop's read came back empty) are in the input now, and a suspension would drop them
        // with the pipe: look, as the loop's reader, and keep the loop if anything is there.
        var input = _input!;
        if (input.Reader.TryRead(out var unread))
        {
            input.Reader.AdvanceTo(unread.Buffer.Start);
            if (unread.IsCanceled)
            {
                input.Reader.CancelPendingRead(); // a wake's cancel, taken by this look: the loop's next read gets it
            }
            if (!unread.Buffer.IsEmpty || unread.IsCompleted || unread.IsCanceled)
            {
                ReleaseReceiveSide();
                return false;
            }
        }
        // A wake or a resume asked before this point keeps the loop.
        if (Interlocked.Exchange(ref _wakePending, 0) != 0 | Interlocked.Exchange(ref _resumeWanted, 0) != 0)
        {
            ReleaseReceiveSide();
            return false;
        }
        _suspendParts = 2; // the input's reader (the HTTP loop, or an upgraded stream's read) and the send loop; set first, as the send loop may end at once
        if (Interlocked.CompareExchange(ref _sendLoopState, 2, 0) != 0)
        {
            ReleaseReceiveSide(); // the send loop has ended (a send failed, or an abort): the connection is ending
            return false;
        }
        Volatile.Write(ref _suspendState, Suspending);
        input.Writer.Complete(); // the transport's end: the receive side is held, nothing is being written
        input.Reader.Complete(); // the HTTP connection's, for it (it is the caller)
        _output!.Writer.Complete(); // the HTTP connection's: the send loop, all sent, ends without a FIN
        return true;
    }

    /// <summary>The HTTP connection's loop has returned after <see cref="TrySuspend"/>; a resume may run it again from here.</summary>
    public void OnLoopSuspended() => OnSuspendPartEnded();

    /// <summary>
    /// Runs a suspended connection again, because something arrived for it (called under the receive
    /// side): new pipes, the send loop, then the HTTP connection's loop. An abort or a wake that came
    /// while suspended cancels the new pipes' first reads, so each loop sees it at once.
    /// </summary>
    protected void Resume()
    {
        Volatile.Write(ref _resumeWanted, 0);
        CreatePipes();
        Volatile.Write(ref _suspendState, Active);
        bool aborted = Volatile.Read(ref _aborted) != 0;
        if (aborted)
        {
            _output!.Reader.CancelPendingRead();
        }
        if (Interlocked.Exchange(ref _wakePending, 0) != 0 || aborted)
        {
            _input!.Reader.CancelPendingRead();
        }
        _sendLoopState = 0;
        _sendTask = SendLoopAsync();
        Loop!.Resume();
    }

    /// <summary>True when a wake waits for a suspended connection (the receive side's holder asks on release).</summary>
    protected bool WakePending => Volatile.Read(ref _wakePending) != 0 || Volatile.Read(ref _resumeWanted) != 0;

    /// <summary>Takes the receive side, as an event would: false if it is busy (bytes are being read, or wait on a flush).</summary>
    protected virtual bool TryTakeReceiveSide() => false;

    /// <summary>Gives the receive side back, and handles what was noted while it was held.</summary>
    protected virtual void ReleaseReceiveSide()
    {
    }

    /// <summary>A wake for a suspended connection: resume it, if the receive side is free (else its holder does).</summary>
    protected virtual void OnWakeRequested()
    {
    }

    private void CreatePipes()
    {
        _input = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Default, minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: InputPauseThreshold, resumeWriterThreshold: InputPauseThreshold / 2,
            readerScheduler: _inputReaderScheduler, writerScheduler: _inputWriterScheduler, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Default, minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: OutputPauseThreshold, resumeWriterThreshold: OutputPauseThreshold / 2,
            readerScheduler: _outputReaderScheduler, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    }

    /// <summary>One of the two loops has ended for a suspension; the last drops the pipes and releases the receive side.</summary>
    private void OnSuspendPartEnded()
    {
        if (Interlocked.Decrement(ref _suspendParts) != 0)
        {
            return;
        }
        _input = null;
        _output = null;
        _sendTask = Task.CompletedTask; // the ended loop's state, which its task is
        Loop!.Suspended(); // before a release can resume it
        Volatile.Write(ref _suspendState, Suspended);
        ReleaseReceiveSide(); // resumes at once if bytes, a close or a wake came meanwhile
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
        _output?.Reader.CancelPendingRead(); // none while suspended: a resume finds the connection aborted
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
            _input!.Writer.Complete();
        }
        else
        {
            _input!.Writer.Complete(error);
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
        var reader = _output!.Reader;
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
            if (Volatile.Read(ref _sendLoopState) == 2)
            {
                return; // the output ended for a suspension, all of it sent: no FIN, the connection stays
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
            if (Interlocked.CompareExchange(ref _sendLoopState, 1, 0) == 2)
            {
                // Ended for a suspension (or aborted as it began: the resume that follows sees the abort).
                OnSuspendPartEnded();
            }
            else
            {
                // Nothing more reaches the peer: a write waiting for its bytes to go out never will.
                _progress.OnConnectionClosed();
            }
        }
    }
}
