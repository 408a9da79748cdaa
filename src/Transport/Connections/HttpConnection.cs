using System.Buffers;
using System.IO.Pipelines;
using System.Diagnostics;
using HttpSysLite.Transport.Caching;
using HttpSysLite.Transport.Diagnostics;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Output;
using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// One HTTP/1.1 connection: reads heads, validates, routes, delivers to the request queue inline,
/// and loops while the connection stays persistent. Owns the HTTP ends of the socket's pipes.
/// </summary>
internal sealed class HttpConnection : IConnectionLoop
{
    /// <summary>Longer URLs are never cached: the key is built on the stack.</summary>
    public const int MaxCacheKeyLength = 2048;

    /// <summary>
    /// How long an idle connection keeps its last request's context before the heartbeat gives it back
    /// to the driver's pool. A client that sends its next request sooner (any busy keep-alive client)
    /// reuses it, allocating nothing; one that stays silent holds none of it after this.
    /// </summary>
    public static readonly TimeSpan IdleContextRelease = TimeSpan.FromSeconds(1);

    // The idle wait's states (_idleWait): the loop waits for a next request's first byte (Waiting); the
    // heartbeat, after IdleContextRelease, cancels that read to have the connection suspended
    // (Requesting while it cancels, then Requested). Only the loop leaves Waiting or Requested, only the
    // heartbeat leaves Requesting, so a cancel is issued only while the loop is in that read, and the
    // loop knows of every cancel issued for it.
    private const int NotWaiting = 0;
    private const int Waiting = 1;
    private const int SuspendRequesting = 2;
    private const int SuspendRequested = 3;

    // The context of the request in flight, the connection loop's (null while idle). When the loop goes
    // idle it parks the context in _parked (from _idleSince); its next request takes it back, unless the
    // heartbeat took it first (whoever exchanges _parked to null owns it).
    private RequestContext? _context;
    private RequestContext? _parked;
    // The upgraded stream whose read gave the pipes up (UpgradedStream.TrySuspend): a resume is its, not this loop's.
    private UpgradedStream? _suspendedStream;
    private long _idleSince;
    private int _idleWait;
    private readonly bool _admitted;
    private int _aborted;
    private volatile bool _closing;
    private volatile bool _readingHead;
    private PrefixTable _requestTable = PrefixTable.Empty;
    private bool _moreBuffered;
    private bool _peerFinished;
    private bool _clientClosing;

    private volatile TimerKind _timedOut;

    public HttpConnection(HttpDriver driver, TransportConnection transport, ulong id, PortBinding binding, bool admitted)
    {
        Driver = driver;
        Transport = transport;
        Id = id;
        Binding = binding;
        _admitted = admitted;
        StartTimestamp = Stopwatch.GetTimestamp();
        _idleSince = transport.Timeouts.Now; // a connection silent from its accept is idle from then
        transport.Loop = this;
    }

    /// <summary>When the connection was accepted (Stopwatch ticks): every request's ConnectionStart.</summary>
    public long StartTimestamp { get; }

    public ulong Id { get; }

    /// <summary>The connection's slot in the driver's <see cref="ConnectionTable{T}"/> (set at accept; -1 once removed).</summary>
    internal int Slot { get => _slot; set => _slot = value; }

    private int _slot = -1;

    /// <summary>Takes the slot for the removal, once: -1 if it was taken already.</summary>
    internal int TakeSlot() => Interlocked.Exchange(ref _slot, -1);

    private void SetDue(long due)
    {
        int slot = Volatile.Read(ref _slot);
        if (slot >= 0) // removed: the slot may be another connection's now
        {
            Driver.Connections.SetDue(slot, due);
        }
    }

    /// <summary>The port this connection arrived on, whose connection count it holds.</summary>
    public PortBinding Binding { get; }

    /// <summary>The limits and timers in force (the port's).</summary>
    public ConnectionSettings Settings => Binding.Settings;

    /// <summary>The timer that expired on this connection, if one did (the connection is ending).</summary>
    public TimerKind TimedOut => _timedOut;

    public HttpDriver Driver { get; }

    public TransportConnection Transport { get; }

    /// <summary>Whether the connection survives the current request; lowered by either side, never raised.</summary>
    public bool KeepAlive => KeepAliveEnd == KeepAliveEndReason.None;

    /// <summary>Why the connection ends after this request (None while it persists); changed only by <see cref="EndKeepAlive"/>.</summary>
    public KeepAliveEndReason KeepAliveEnd { get; private set; }

    /// <summary>
    /// The one way keep-alive ends: the connection closes after the current request. The first reason is
    /// kept. The loop goes on to a next request only while none was given, so nothing ever restores it.
    /// </summary>
    public void EndKeepAlive(KeepAliveEndReason reason)
    {
        if (KeepAliveEnd == KeepAliveEndReason.None)
        {
            KeepAliveEnd = reason;
        }
    }

    public CancellationToken ConnectionClosed => Transport.ConnectionClosed;

    public bool IsAborted => Volatile.Read(ref _aborted) != 0;

    /// <summary>The URL group of the request in flight, if any (read by a stopping server from another thread).</summary>
    public UrlGroup? ActiveGroup { get; private set; }

    /// <summary>
    /// Ends the connection once its current request (if any) is answered: what is queued is sent, then
    /// FIN. An idle connection stops waiting for its next request at once; one whose head has started
    /// reads it to its end and answers it (a stopped server's requests get 503 with Connection: close),
    /// since the client sent a valid request on a live connection. Safe from any thread.
    /// </summary>
    public void CloseGracefully()
    {
        _closing = true;
        if (ActiveGroup is null && !_readingHead)
        {
            Transport.CancelPendingRead(); // the head-read loop sees a canceled read and ends (resumed first if suspended)
        }
    }

    public void Abort()
    {
        Interlocked.Exchange(ref _aborted, 1);
        Transport.Abort();
    }

    /// <summary>The context of the request in flight; only the connection loop's code for that request uses it.</summary>
    private RequestContext Context => _context!;

    /// <summary>The connection closed (reset, abort, or both directions ended): the request in flight, if any, is aborted.</summary>
    private void OnConnectionClosed() => Volatile.Read(ref _context)?.OnConnectionClosed();

    /// <summary>The last request is over and its response flushed: its context waits for the next request, or the heartbeat.</summary>
    private void ParkContext()
    {
        if (_context is { } context)
        {
            _context = null;
            _idleSince = Transport.Timeouts.Now;
            Volatile.Write(ref _parked, context); // after _idleSince: the heartbeat reads them in the other order
        }
    }

    /// <summary>The context for a request whose first bytes arrived: the parked one if the heartbeat left it, else one from the pool.</summary>
    private RequestContext TakeContext() => Interlocked.Exchange(ref _parked, null) ?? Driver.Contexts.Rent(this);

    /// <summary>
    /// Gives a context back to the pool. Not after the connection closed or was aborted: the close
    /// callback may still be cancelling its token on another thread, and a context reused by another
    /// connection must never see that (it is dropped instead, for the GC).
    /// </summary>
    private void ReturnContext(RequestContext? context)
    {
        if (context is not null && !Transport.ConnectionClosed.IsCancellationRequested && !IsAborted)
        {
            Driver.Contexts.Return(context);
        }
    }

    /// <summary>The transport resumed a suspended connection: the loop runs again, off the I/O loop's caller unless on it.</summary>
    void IConnectionLoop.Suspended()
    {
        // Nothing runs for the connection now but its IdleConnection deadline: the heartbeat need look
        // at it only then (anything sooner that wakes it resumes it, below, first).
        SetDue(Transport.Timeouts.RequestDeadline);
    }

    void IConnectionLoop.Resume()
    {
        SetDue(ConnectionTable<HttpConnection>.Always); // before the loop arms its deadlines again
        if (Interlocked.Exchange(ref _suspendedStream, null) is { } upgraded)
        {
            // This loop still waits for the app; the upgraded stream's read (and any write) goes on.
            upgraded.OnResumed();
            return;
        }
        if (Transport.OnLoopThread)
        {
            _ = RunAsync(); // as at accept: until it waits for the head, which the loop then reads and parses here
        }
        else
        {
            // Woken by a deadline, a close or an abort on another thread (the heartbeat, a stopping server).
            ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.RunAsync(), this, preferLocal: false);
        }
    }

    public async Task RunAsync()
    {
        var registration = Transport.ConnectionClosed.UnsafeRegister(static state => ((HttpConnection)state!).OnConnectionClosed(), this);
        bool suspended = false;
        try
        {
            if (_admitted)
            {
                suspended = await ProcessRequestsAsync().ConfigureAwait(false);
            }
            else
            {
                await RejectConnectionAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is ConnectionResetException || SocketErrors.IsConnectionGone(ex) || IsAborted || _timedOut != TimerKind.None)
        {
            // The client left or the connection was aborted: nothing to answer.
        }
        catch (Exception ex)
        {
            Driver.ReportError(ex);
        }
        finally
        {
            if (suspended)
            {
                // Idle, with the pipes given up: the deadlines (IdleConnection) stay armed, and the transport
                // runs this loop again when anything arrives for the connection.
                registration.Dispose();
            }
            else
            {
                if (_context is { IsUpgraded: true } upgraded)
                {
                    await upgraded.EndUpgradedSuspensionsAsync().ConfigureAwait(false); // the loop failed under a suspended stream
                }
                ActiveGroup = null;
                StopTimer();
                if (_context is { IsResponseUnfinished: true })
                {
                    // The response was delivered and cannot be finished now (the server gave it up, or the loop
                    // failed under it). Completing the output would send what it holds and then a FIN, and a
                    // close-delimited body cut short reads as whole after a FIN (RFC 9112 section 8): reset.
                    Abort();
                }
                registration.Dispose(); // waits for a close callback that is running: none touches the context after this
                ReturnContext(Interlocked.Exchange(ref _parked, null));
                ReturnContext(Interlocked.Exchange(ref _context, null));
                var log = HttpSysLiteEventSource.Log;
                if (log.IsEnabled())
                {
                    log.ConnClose(Id, IsAborted);
                }
                if (_peerFinished && !IsAborted)
                {
                    Transport.OnPeerFinished(); // before the output completes: its last send can end both directions
                }
                await Transport.Input.CompleteAsync().ConfigureAwait(false);
                await Transport.Output.CompleteAsync().ConfigureAwait(false);
                await Transport.DisposeAsync().ConfigureAwait(false);
                Driver.RemoveConnection(this);
                if (log.IsEnabled())
                {
                    log.ConnCleanup(Id);
                }
            }
        }
        if (suspended)
        {
            Transport.OnLoopSuspended(); // last: a resume may run this loop again from here
        }
    }

    /// <summary>
    /// The Life of a Request, in order:
    ///  1. Read until a whole head is buffered. Limits apply before parsing; bytes past MaxRequestBytes
    ///     are never looked at.
    ///  2. Parse, then validate framing and Host (RFC 9112 sections 3.2 and 6): a bad request is
    ///     answered with its status and Connection: close, and the connection ends.
    ///  3. Route by local port, Host and canonical path; no match is 400, as in HTTP.sys.
    ///  4. Deliver through the request queue: while its apps have capacity the app runs right here, on
    ///     this loop (no hop between parsing and the app); once saturated the request waits, bounded by
    ///     the queue's limit and timeout, and is turned away per its 503 verbosity past either.
    ///  5. If the connection persists, skip what the app left of the body (bounded), then go to 1.
    ///     Pipelined requests already buffered are answered in order by the same loop.
    /// </summary>
    private async Task<bool> ProcessRequestsAsync()
    {
        var settings = Settings;
        var log = HttpSysLiteEventSource.Log;
        while (true)
        {
            // Read per request, and let go of before the app runs: an upgraded stream may give the pipes up
            // while this loop waits for the app, and this method's state must not keep them.
            var input = Transport.Input;
            // 1. Read and parse a head: on Linux a head that has to wait for the network is parsed on
            // the epoll loop thread that read it, so a cache hit or a rejection never changes threads.
            Transport.AllowReadsOnLoopThread();
            RequestHeadHandler head = default;
            var rejection = RequestRejectionReason.None;
            bool headStarted = false;
            while (true)
            {
                if (!input.TryRead(out var result))
                {
                    // Nothing buffered: send what pipelined responses left unflushed, then wait. Until a
                    // byte of the head arrives the connection is idle; from then the whole head has HeaderWait.
                    await FlushOutputAsync().ConfigureAwait(false);
                    if (headStarted)
                    {
                        if (Transport.Timeouts.RequestTimer != TimerKind.HeaderWait)
                        {
                            StartTimer(TimerKind.HeaderWait, settings.HeaderWait);
                        }
                        result = await input.ReadAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        // Idle: the last request is over and its response flushed. Its context is parked;
                        // the heartbeat gives it back to the pool if the connection stays silent.
                        ParkContext();
                        if (Transport.Timeouts.RequestTimer != TimerKind.IdleConnection)
                        {
                            StartTimer(TimerKind.IdleConnection, settings.IdleConnection);
                        }
                        // The heartbeat may end this wait if it lasts (see OnHeartbeat): after the read, below.
                        Volatile.Write(ref _idleWait, Waiting);
                        result = await input.ReadAsync().ConfigureAwait(false);
                        if (EndIdleWait())
                        {
                            if (!result.IsCanceled)
                            {
                                // Bytes came first; the heartbeat's cancel is still in the pipe. Take it with this
                                // read, so no later read (a body's, an upgraded stream's) mistakes it for its own.
                                input.AdvanceTo(result.Buffer.Start);
                                bool taken = input.TryRead(out result);
                                Debug.Assert(taken && result.IsCanceled);
                            }
                            if (result.Buffer.IsEmpty && !result.IsCompleted && !_closing && _timedOut == TimerKind.None)
                            {
                                // Still nothing: give the pipes and this loop up until the next byte (or
                                // deadline, close, abort) resumes the connection.
                                input.AdvanceTo(result.Buffer.End);
                                ReturnContext(Interlocked.Exchange(ref _parked, null));
                                if (Transport.TrySuspend())
                                {
                                    return true;
                                }
                                continue;
                            }
                        }
                    }
                }
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    if (!headStarted)
                    {
                        // The request's first bytes: its context (kept from the last request when these
                        // bytes were already buffered behind it, pipelined).
                        _context ??= TakeContext();
                        _context.Reset();
                        // A request is routed by the prefixes in force when its first byte came: one that
                        // completes while its server stops still finds that server (and its 503), never
                        // "no prefix" (400) because the prefixes left in between.
                        _requestTable = Driver.Table;
                        Context._timestamps.DataStart = Stopwatch.GetTimestamp();
                        if (log.IsEnabled())
                        {
                            log.RecvReq(Context.RequestId, Id);
                        }
                    }
                    Context.Headers.Clear();
                    Context.ContentLength = null;
                    head = new RequestHeadHandler(Context);
                    var status = HttpParser.ParseHead(buffer, ref head, settings.Limits, out long consumed, out rejection);
                    if (status == ParseResult.Done)
                    {
                        // More bytes behind this head: a body, or pipelined requests.
                        _moreBuffered = buffer.Length > consumed;
                        input.AdvanceTo(buffer.GetPosition(consumed));
                        break;
                    }
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (status == ParseResult.Invalid)
                    {
                        break;
                    }
                    if (!headStarted)
                    {
                        headStarted = true;
                        _readingHead = true;
                    }
                }
                else
                {
                    input.AdvanceTo(buffer.End);
                }
                if (result.IsCompleted || (_closing && !headStarted))
                {
                    return false; // the client closed between requests (or mid-head), or the port closes while idle
                }
                if (result.IsCanceled && _timedOut != TimerKind.None)
                {
                    // HeaderWait: nothing of a response has started, so the client is told (408); an idle
                    // connection just ends.
                    if (_timedOut == TimerKind.HeaderWait)
                    {
                        await RejectAsync(RequestRejectionReason.RequestHeadersTimeout).ConfigureAwait(false);
                    }
                    return false;
                }
            }
            StopTimer();
            if (headStarted)
            {
                _readingHead = false;
            }

            // 2. Validate. Then the response cache, before routing: a hit never reaches a queue or an app.
            if (rejection == RequestRejectionReason.None)
            {
                rejection = head.Validate(out bool keepAlive);
                if (!keepAlive)
                {
                    EndKeepAlive(KeepAliveEndReason.ClientClose);
                }
                // A client that asked to close sends nothing after this request (RFC 9112 section 9.6);
                // once its body is read too, the connection can close without lingering.
                _clientClosing = !keepAlive;
                if (rejection == RequestRejectionReason.None)
                {
                    long parsed = Stopwatch.GetTimestamp();
                    Context._timestamps.HeaderParseEnd = parsed;
                    Context.StartTimestamp = HttpSysLiteMeter.RequestDuration.Enabled ? parsed : 0;
                    if (log.IsEnabled())
                    {
                        log.Parse(Context.RequestId, Context.Method, Context.RawTarget);
                    }
                }
            }
            if (rejection == RequestRejectionReason.None && !Driver.Cache.IsEmpty
                && LookupCache(ref head, out bool notModified) is { } cached)
            {
                if (log.IsEnabled())
                {
                    if (notModified)
                    {
                        log.CachedNotModified(Context.RequestId, Id, Context.RawTarget);
                    }
                    else
                    {
                        log.SrvdFrmCache(Context.RequestId, Id, Context.RawTarget, cached.Head.Length + (Context.IsHeadRequest ? 0 : cached.Body.Length));
                    }
                }
                await ServeFromCacheAsync(cached, notModified).ConfigureAwait(false);
                RecordDuration(notModified ? 304 : cached.StatusCode);
                if (!KeepAlive)
                {
                    _peerFinished = ClientHasFinished();
                    return false;
                }
                continue;
            }

            // 3. Route.
            if (rejection == RequestRejectionReason.None)
            {
                rejection = Route();
                Context._timestamps.RoutingEnd = Stopwatch.GetTimestamp();
            }
            if (rejection != RequestRejectionReason.None)
            {
                await RejectAsync(rejection).ConfigureAwait(false);
                return false;
            }

            input = null!;

            // 4. Deliver: inline while the queue's apps have capacity, else wait in the queue (bounded).
            // A consumer that delegated the request (HttpDelegateRequestEx) hands it to another queue's
            // prefix: it is delivered again there, as if routed to it, before the response is looked at.
            var registration = Context.Registration!;
            while (true)
            {
                var queue = registration.Group.Queue;
                if (!queue.TryEnter())
                {
                    var outcome = await queue.WaitAsync(ConnectionClosed).ConfigureAwait(false);
                    if (outcome != QueueOutcome.Granted)
                    {
                        await RejectFromQueueAsync(queue, outcome).ConfigureAwait(false);
                        return false;
                    }
                }
                var consumer = queue.NextConsumer();
                if (consumer is null)
                {
                    queue.Exit();
                    await RejectFromQueueAsync(queue, QueueOutcome.NoConsumer).ConfigureAwait(false);
                    return false;
                }
                ActiveGroup = registration.Group;
                Context.BeginBody(); // again for a delegated request: its body is still unread
                if (log.IsEnabled())
                {
                    log.Deliver(Context.RequestId, queue.Name ?? string.Empty, Context.RawTarget);
                }
                // The app may block: it runs on the thread pool, never on the epoll loop thread, unless its
                // queue chose UnsafePreferInlineScheduling (then its body reads resume on the loop too).
                if (!queue.PreferInlineScheduling && Transport.LeaveLoopThread())
                {
                    await Task.Yield();
                }
                bool counted = HttpSysLiteMeter.ActiveRequests.Enabled;
                if (counted)
                {
                    HttpSysLiteMeter.ActiveRequests.Add(1, HttpSysLiteMeter.RequestTags(Context.Method, Context.Version, Binding.PortTag));
                }
                try
                {
                    Context._timestamps.DeliveredForIO = Stopwatch.GetTimestamp();
                    await consumer.ProcessRequestAsync(Context).ConfigureAwait(false);
                }
                finally
                {
                    ActiveGroup = null;
                    queue.Exit();
                    if (counted)
                    {
                        HttpSysLiteMeter.ActiveRequests.Add(-1, HttpSysLiteMeter.RequestTags(Context.Method, Context.Version, Binding.PortTag));
                    }
                    if (!Context.IsDelegated)
                    {
                        RecordDuration(Context.StatusCode); // a delegated request's duration is the last queue's
                    }
                }
                if (Context.IsUpgraded)
                {
                    await Context.EndUpgradedSuspensionsAsync().ConfigureAwait(false); // the pipes back, if a silent stream gave them up
                }
                if (Context.TakeDelegation() is not { } delegated)
                {
                    break;
                }
                registration = delegated;
                Context.Registration = registration;
                if (PrefixTable.PathMatches(registration.Prefix.Path, Context.CanonicalPath))
                {
                    registration.Prefix.SplitPath(Context.CanonicalPath, out string pathBase, out string subPath);
                    Context.PathBase = pathBase;
                    Context.Path = subPath;
                }
                else
                {
                    // Delegated outside the destination prefix's path (as HttpSys allows): no PathBase.
                    Context.PathBase = string.Empty;
                    Context.Path = Context.CanonicalPath;
                }
            }
            if (!Context.IsResponseCompleted || IsAborted)
            {
                return false; // the server abandoned the response: the connection cannot be trusted
            }

            // 5. Persist.
            if (!KeepAlive || _closing || !await Context.DrainBodyAsync().ConfigureAwait(false))
            {
                _peerFinished = ClientHasFinished();
                return false;
            }
        }
    }

    /// <summary>
    /// True when the client asked to close (so it sends nothing more, RFC 9112 section 9.6) and all it
    /// sent was read: the connection may then close without lingering for its FIN.
    /// </summary>
    private bool ClientHasFinished() => _clientClosing && Context.IsRequestBodyComplete && !HasBufferedInput();

    /// <summary>True when request bytes are already buffered behind the current request (pipelining); reads nothing.</summary>
    public bool HasBufferedInput()
    {
        if (!_moreBuffered)
        {
            return false; // the usual case, decided without touching the pipe
        }
        if (!Context.HasRequestBody && !Context.IsUpgraded)
        {
            return true; // nothing reads a bodiless request's input: the bytes behind its head are still there
        }
        var input = Transport.Input;
        if (!input.TryRead(out var result))
        {
            return false;
        }
        bool any = !result.Buffer.IsEmpty;
        input.AdvanceTo(result.Buffer.Start, result.Buffer.Start);
        return any;
    }

    /// <summary>
    /// An upgraded stream's read waits for bytes: the heartbeat may end it for a suspension as it ends an
    /// idle connection's wait (a fresh wait is idle from now; a wait again after a refused suspension
    /// keeps its start, so the heartbeat asks again at its next tick).
    /// </summary>
    internal void BeginIdleWait(bool fresh)
    {
        if (fresh)
        {
            _idleSince = Transport.Timeouts.Now;
        }
        Volatile.Write(ref _idleWait, Waiting); // after _idleSince: the heartbeat reads them in the other order
    }

    /// <summary>An upgraded stream is about to give the pipes up: the resume that follows is its.</summary>
    internal void OnUpgradedSuspending(UpgradedStream stream) => Volatile.Write(ref _suspendedStream, stream);

    /// <summary>The transport refused that suspension: nothing will resume it.</summary>
    internal void OnUpgradedSuspendRefused() => Volatile.Write(ref _suspendedStream, null);

    /// <summary>
    /// The idle read returned: leaves the idle wait, and says whether the heartbeat asked this read to end
    /// for a suspension (its cancel then issued; in this read's result or still in the pipe).
    /// </summary>
    internal bool EndIdleWait()
    {
        var spin = new SpinWait();
        while (true)
        {
            int state = Interlocked.CompareExchange(ref _idleWait, NotWaiting, Waiting);
            if (state == Waiting)
            {
                return false; // the usual case: bytes came, no cancel was or will be issued
            }
            if (state == SuspendRequested)
            {
                Volatile.Write(ref _idleWait, NotWaiting);
                return true;
            }
            spin.SpinOnce(); // the heartbeat is between asking and cancelling: a few instructions
        }
    }

    /// <summary>Arms the connection's request timer; the heartbeat fires it once the deadline passes.</summary>
    internal void StartTimer(TimerKind kind, TimeSpan timeout) => Transport.Timeouts.StartRequestTimer(kind, timeout);

    /// <summary>Arms <paramref name="kind"/> unless another timer runs (a drain's outer timer wins over a read's).</summary>
    internal bool TryStartTimer(TimerKind kind, TimeSpan timeout) => Transport.Timeouts.TryStartRequestTimer(kind, timeout);

    internal void StopTimer() => Transport.Timeouts.StopRequestTimer();

    /// <summary>
    /// Called by the heartbeat (another thread). An expired timer marks the connection and cancels its
    /// pending read, so the loop that waits sees why and answers or ends; a stalled send aborts.
    /// </summary>
    internal void OnHeartbeat(long now)
    {
        bool released = now - Volatile.Read(ref _idleSince) >= (long)IdleContextRelease.TotalMilliseconds;
        if (released && Volatile.Read(ref _parked) is not null)
        {
            ReturnContext(Interlocked.Exchange(ref _parked, null)); // null if the loop took it back first
        }
        var timeouts = Transport.Timeouts;
        var expired = timeouts.TakeExpiredRequestTimer(now);
        if (expired != TimerKind.None)
        {
            _timedOut = expired;
            ReportTimeout(expired);
            Transport.CancelPendingRead();
        }
        else if (Volatile.Read(ref _idleWait) == Waiting && Transport.CanSuspend
            && now - Volatile.Read(ref _idleSince) >= (long)IdleContextRelease.TotalMilliseconds // read after the wait began: this wait's start
            && Interlocked.CompareExchange(ref _idleWait, SuspendRequesting, Waiting) == Waiting)
        {
            // Silent that long: end the idle read, so the loop gives the pipes up (TrySuspend). The loop
            // waits in that read until this is Requested, so this cancel reaches it and nothing else.
            Transport.Input.CancelPendingRead();
            Volatile.Write(ref _idleWait, SuspendRequested);
        }
        if (timeouts.TakeExpiredBodyRate(now))
        {
            // As EntityBody: the waiting body read sees why and fails with 408.
            _timedOut = TimerKind.MinRequestBodyRate;
            ReportTimeout(TimerKind.MinRequestBodyRate);
            Transport.CancelPendingRead();
        }
        if (timeouts.IsLingerExpired(now))
        {
            Transport.Abort(); // the client never closed its side: stop waiting for its FIN
        }
        if (timeouts.IsSendStalled(now) && !IsAborted)
        {
            // Timer_MinSendRate: the client does not take the response; nothing can be said to it any more.
            _timedOut = TimerKind.MinSendRate;
            ReportTimeout(TimerKind.MinSendRate);
            Abort();
        }
    }

    private void ReportTimeout(TimerKind kind)
    {
        var log = HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            log.ConnTimedOut(Id, HttpSysLiteEventSource.TimerName(kind));
        }
    }

    /// <summary>http.server.request.duration for the request just answered, when a listener measures it.</summary>
    private void RecordDuration(int statusCode)
    {
        long start = Context.StartTimestamp;
        if (start != 0 && HttpSysLiteMeter.RequestDuration.Enabled)
        {
            HttpSysLiteMeter.RequestDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds,
                HttpSysLiteMeter.RequestTags(Context.Method, Context.Version, Binding.PortTag, statusCode));
        }
    }

    /// <summary>A connection past the port's MaxConnections: turned away per the port's 503 verbosity.</summary>
    private ValueTask RejectConnectionAsync()
    {
        HttpSysLiteMeter.RejectedRequests.Add(1, new KeyValuePair<string, object?>("httpsyslite.reason", "ConnectionLimit"));
        Transport.LingerBriefly(); // over the limit: its descriptor goes back as soon as the answer is out
        switch (Settings.ConnectionLimitMode)
        {
            case ServiceUnavailableMode.Reset:
                Abort();
                return default;
            case ServiceUnavailableMode.StatusWithReason:
                return WriteErrorAsync(ReasonPhrases.Build(503, "Service Unavailable (connection limit)"));
            default:
                return WriteErrorAsync(ReasonPhrases.StatusLine(503));
        }
    }

    private ValueTask<FlushResult> FlushOutputAsync() =>
        Transport.Output.UnflushedBytes > 0 ? Transport.FlushAsync() : default;

    private RequestRejectionReason Route()
    {
        var context = Context;
        string host = context.Host;
        string canonicalPath = context.CanonicalPath;
        var table = _requestTable;
        var local = Transport.LocalEndPoint;
        if (!context.Routed.Matches(table, host, canonicalPath, local))
        {
            var found = table.Find(local.Port, HostWithoutPort(host), local.Address, canonicalPath);
            if (found is null)
            {
                return RequestRejectionReason.NoMatchingPrefix;
            }
            found.Prefix.SplitPath(canonicalPath, out string pathBase, out string subPath);
            context.Routed.Remember(table, host, canonicalPath, local, found, pathBase, subPath);
        }
        context.Registration = context.Routed.Registration;
        context.PathBase = context.Routed.PathBase;
        context.Path = context.Routed.SubPath;
        return RequestRejectionReason.None;
    }

    /// <summary>
    /// The cache's answer for this request, if any: GET and HEAD without Authorization, Range or a body
    /// may be answered from an entry; an unsafe method invalidates its URL's entry (RFC 9111 section 4.4).
    /// </summary>
    private CacheEntry? LookupCache(ref RequestHeadHandler head, out bool notModified)
    {
        notModified = false;
        string method = Context.Method;
        bool get = ReferenceEquals(method, KnownMethods.Get);
        if (!get && !ReferenceEquals(method, KnownMethods.Head))
        {
            if (ReferenceEquals(method, KnownMethods.Post) || ReferenceEquals(method, KnownMethods.Put)
                || ReferenceEquals(method, KnownMethods.Patch) || ReferenceEquals(method, KnownMethods.Delete))
            {
                Span<char> unsafeKey = stackalloc char[MaxCacheKeyLength];
                int unsafeLength = ResponseCache.WriteKey(unsafeKey, Context.Host, Transport.LocalEndPoint.Port, Context.CanonicalPath, Context.QueryString, Context.IsHttps);
                if (unsafeLength > 0)
                {
                    Driver.Cache.Invalidate(unsafeKey[..unsafeLength]);
                }
            }
            return null;
        }
        if (head.HasAuthorization || head.HasRange || Context.HasRequestBody)
        {
            return null;
        }
        Span<char> key = stackalloc char[MaxCacheKeyLength];
        int length = ResponseCache.WriteKey(key, Context.Host, Transport.LocalEndPoint.Port, Context.CanonicalPath, Context.QueryString, Context.IsHttps);
        var entry = length > 0 ? Driver.Cache.Lookup(key[..length]) : null;
        if (entry is not null)
        {
            notModified = head.IfNoneMatch is { } ifNoneMatch
                ? entry.MatchesIfNoneMatch(ifNoneMatch)
                : head.IfModifiedSince is { } ifModifiedSince && entry.NotModifiedSince(ifModifiedSince);
        }
        return entry;
    }

    /// <summary>
    /// Answers from the cache: the stored head, a fresh Date (and Age, when the response had one), the
    /// connection's own Connection header, then the body (none for HEAD or a 304) — all in one send.
    /// </summary>
    private ValueTask ServeFromCacheAsync(CacheEntry entry, bool notModified)
    {
        var output = Transport.Output;
        output.Write(notModified ? entry.NotModifiedHead : entry.Head);
        output.Write(HttpDate.HeaderLine);
        if (entry.HasAge)
        {
            entry.WriteAge(output, Driver.Cache.Now);
        }
        if (Driver.Cache.AddHitHeader)
        {
            output.Write("X-HttpSysLite-Cache: HIT\r\n"u8);
        }
        if (!KeepAlive)
        {
            output.Write("Connection: close\r\n"u8);
        }
        else if (Context.Version == HttpVersion.Http10)
        {
            output.Write("Connection: keep-alive\r\n"u8);
        }
        output.Write("\r\n"u8);
        if (!notModified && !Context.IsHeadRequest)
        {
            output.Write(entry.Body);
        }
        if (KeepAlive && HasBufferedInput())
        {
            return default; // pipelined: the next response joins this one in the same send
        }
        var flush = Transport.FlushAsync();
        return flush.IsCompletedSuccessfully ? default : new ValueTask(flush.AsTask());
    }

    private static ReadOnlySpan<char> HostWithoutPort(string host)
    {
        if (host.StartsWith('['))
        {
            int close = host.IndexOf(']');
            return close < 0 ? host : host.AsSpan(0, close + 1);
        }
        int colon = host.LastIndexOf(':');
        return colon < 0 ? host : host.AsSpan(0, colon);
    }

    /// <summary>Answers a rejected request with its status and Connection: close; the caller then closes.</summary>
    private ValueTask RejectAsync(RequestRejectionReason reason)
    {
        Driver.ReportRejection(reason);
        int status = RequestRejection.StatusCode(reason);
        var log = HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            log.ParseRequestFailed(Context.RequestId, Id, reason.ToString(), status);
        }
        return WriteErrorAsync(ReasonPhrases.StatusLine(status), reason == RequestRejectionReason.NoMatchingPrefix ? NoPrefixBody() : null);
    }

    // What HTTP.sys's 400 for an unroutable request says, in our words: the usual cause is a Host (say
    // 127.0.0.1) that no prefix names (say localhost), and the body tells the user so.
    private static readonly byte[] s_invalidHostnameBody =
        "Bad Request - Invalid Hostname\r\n\r\nHTTP Error 400. No URL prefix registered on this port takes requests for this host.\r\n"u8.ToArray();
    private static readonly byte[] s_invalidUrlBody =
        "Bad Request - Invalid URL\r\n\r\nHTTP Error 400. No URL prefix registered on this port for this host holds this path.\r\n"u8.ToArray();

    private byte[] NoPrefixBody()
    {
        var local = Transport.LocalEndPoint;
        return _requestTable.MatchesHost(local.Port, HostWithoutPort(Context.Host), local.Address) ? s_invalidUrlBody : s_invalidHostnameBody;
    }

    /// <summary>Turns a request away for its queue (HTTP.sys's 503 verbosity): a reset, a 503, or a 503 that says why.</summary>
    private ValueTask RejectFromQueueAsync(RequestQueue queue, QueueOutcome outcome)
    {
        var log = HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            log.RequestRejected(Context.RequestId, Id, outcome.ToString(), queue.Name ?? string.Empty,
                queue.RejectionMode == ServiceUnavailableMode.Reset && outcome != QueueOutcome.NoConsumer ? 0 : 503);
        }
        if (HttpSysLiteMeter.RejectedRequests.Enabled)
        {
            HttpSysLiteMeter.RejectedRequests.Add(1, new KeyValuePair<string, object?>("httpsyslite.reason", outcome.ToString()));
        }
        // A queue with no application behind it (its server stopped) answers 503 whatever the verbosity,
        // as HTTP.sys does for an application pool that is down: a reset would read as a network fault.
        var mode = outcome == QueueOutcome.NoConsumer && queue.RejectionMode == ServiceUnavailableMode.Reset
            ? ServiceUnavailableMode.Status
            : queue.RejectionMode;
        switch (mode)
        {
            case ServiceUnavailableMode.Reset:
                Abort();
                return default;
            case ServiceUnavailableMode.StatusWithReason:
                string why = outcome switch
                {
                    QueueOutcome.QueueFull => "Service Unavailable (queue full)",
                    QueueOutcome.TimedOut => "Service Unavailable (queue timeout)",
                    _ => "Service Unavailable (no application)",
                };
                return WriteErrorAsync(ReasonPhrases.Build(503, why));
            default:
                return WriteErrorAsync(ReasonPhrases.StatusLine(503));
        }
    }

    private async ValueTask WriteErrorAsync(byte[] statusLine, byte[]? body = null)
    {
        EndKeepAlive(KeepAliveEndReason.RequestRejected);
        var output = Transport.Output;
        output.Write(statusLine);
        if (body is null)
        {
            output.Write("Content-Length: 0\r\nConnection: close\r\n"u8);
        }
        else
        {
            output.Write("Content-Type: text/plain; charset=us-ascii\r\nContent-Length: "u8);
            Span<byte> digits = stackalloc byte[10];
            body.Length.TryFormat(digits, out int written, provider: System.Globalization.CultureInfo.InvariantCulture);
            output.Write(digits[..written]);
            output.Write("\r\nConnection: close\r\n"u8);
        }
        output.Write(HttpDate.HeaderLine);
        output.Write("Server: HttpSysLite\r\n\r\n"u8);
        if (body is not null && _context is not { IsHeadRequest: true })
        {
            output.Write(body); // a HEAD response carries the length, not the body (RFC 9110 section 9.3.2)
        }
        await Transport.FlushAsync().ConfigureAwait(false);
    }
}
