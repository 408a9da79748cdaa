using System.Buffers;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Transport.Connections;

public sealed partial class RequestContext
{
    /// <summary>Unread bodies up to this size are read and discarded so the connection can be reused; larger ones close it.</summary>
    public const long MaxDrainBytes = 1024 * 1024;

    private static ReadOnlySpan<byte> ContinueResponse => "HTTP/1.1 100 Continue\r\n\r\n"u8;

    /// <summary>What <see cref="Trailers"/> is before a chunked body gave a collection of its own; never added to.</summary>
    private static readonly RequestHeaders s_noTrailers = new();

    private long _bodyRemaining;
    private long _bodyBytesRead;
    private ChunkedDecoder _chunked;
    private bool _bodyComplete;
    private bool _bodyFailed;
    private bool _bodyReadStarted;
    private long _bodyWaited;
    private RequestHeaders? _trailers; // made at the connection's first chunked body, then reused

    /// <summary>True when the client sent Expect: 100-continue (RFC 9110 section 10.1.1).</summary>
    public bool ExpectContinue { get; internal set; }

    /// <summary>The body size limit for this request (null: none). May change until the body is first read.</summary>
    public long? MaxRequestBodySize { get; set; }

    /// <summary>
    /// The slowest the body may arrive while the app waits to read it, in bytes per second, once
    /// <see cref="MinBodyGracePeriod"/> of waiting has passed (Kestrel's MinRequestBodyDataRate; 0: no
    /// minimum). Only time spent waiting for the network counts: an app that does not read is not the
    /// client's fault. Set per request by the server.
    /// </summary>
    public double MinBodyBytesPerSecond { get; set; }

    /// <summary>The waiting allowed before <see cref="MinBodyBytesPerSecond"/> applies.</summary>
    public TimeSpan MinBodyGracePeriod { get; set; }

    /// <summary>True once reading of the body has begun, after which the limit is fixed.</summary>
    public bool HasStartedReadingBody => _bodyReadStarted;

    /// <summary>True when the whole body has been read (or there was none).</summary>
    public bool IsRequestBodyComplete => _bodyComplete;

    /// <summary>
    /// The fields of a chunked body's trailer section (RFC 9112 section 7.1.2), in arrival order: whole
    /// once <see cref="IsRequestBodyComplete"/>, and empty for any other body. They are data kept apart
    /// from <see cref="Headers"/>: nothing in the driver reads them for framing or routing.
    /// </summary>
    public RequestHeaders Trailers => _trailers ?? s_noTrailers;

    /// <summary>
    /// Arms the rate's deadline for a read that waits: the rate is broken once the time spent waiting in
    /// all exceeds both the grace period and what the bytes read so far allow at the rate. Returns when
    /// the wait started (never 0).
    /// </summary>
    private long StartBodyRateTimer()
    {
        var timeouts = _connection.Transport.Timeouts;
        long now = Math.Max(1, timeouts.Now);
        long allowed = Math.Max((long)MinBodyGracePeriod.TotalMilliseconds, (long)(_bodyBytesRead * 1000 / MinBodyBytesPerSecond));
        timeouts.StartBodyRateTimer(now + allowed - _bodyWaited);
        return now;
    }

    private void ResetBody()
    {
        _bodyRemaining = 0;
        _bodyBytesRead = 0;
        _chunked = default;
        _bodyComplete = true;
        _bodyFailed = false;
        _bodyReadStarted = false;
        _bodyWaited = 0;
        _trailers?.Clear();
        ExpectContinue = false;
    }

    /// <summary>
    /// Called as the request is delivered to the app: the response leaves <see cref="ResponseState.Idle"/>,
    /// and the body framing is set up (RFC 9112 section 6.3).
    /// </summary>
    internal void BeginBody()
    {
        _responseState = ResponseState.Created;
        if (IsChunked)
        {
            _bodyComplete = false;
        }
        else if (ContentLength is long length && length > 0)
        {
            _bodyRemaining = length;
            _bodyComplete = false;
        }
    }

    /// <summary>
    /// Reads body bytes into <paramref name="buffer"/>; 0 means the body is complete. The first read sends
    /// "100 Continue" when the client waits for it and no final response has started.
    /// </summary>
    /// <exception cref="RequestRejectedException">Bad framing, too large, or the client closed early.</exception>
    /// <exception cref="ObjectDisposedException">The request has ended (a stream the app kept from it).</exception>
    public ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_responseState == ResponseState.Idle)
        {
            // Between requests the connection owns its input; after the next head it is another request's body.
            return ValueTask.FromException<int>(new ObjectDisposedException(nameof(RequestContext), "The request has ended; its body can no longer be read."));
        }
        return ReadBodyCoreAsync(buffer, cancellationToken);
    }

    private async ValueTask<int> ReadBodyCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_bodyFailed)
        {
            throw new RequestRejectedException(RequestRejectionReason.UnexpectedEndOfBody);
        }
        if (_bodyComplete || _upgraded)
        {
            return 0;
        }
        if (!_bodyReadStarted)
        {
            _bodyReadStarted = true;
            if (ContentLength > MaxRequestBodySize)
            {
                // Known before a byte is read (Content-Length): refuse without reading.
                Fail();
                throw new RequestRejectedException(RequestRejectionReason.RequestBodyTooLarge);
            }
            if (ExpectContinue && _responseState < ResponseState.Started)
            {
                _connection.Transport.Output.Write(ContinueResponse);
                await _connection.Transport.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var input = _connection.Transport.Input;
        while (true)
        {
            if (!input.TryRead(out var result))
            {
                // The body has to wait for the network: EntityBody bounds the wait (unless a drain's timer runs).
                bool timed = _connection.TryStartTimer(TimerKind.EntityBody, _connection.Settings.EntityBody);
                // The app's own read (not a drain, which has its own timer): the minimum rate applies too.
                long waitStarted = timed && MinBodyBytesPerSecond > 0 ? StartBodyRateTimer() : 0;
                try
                {
                    result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    if (timed)
                    {
                        _connection.StopTimer();
                    }
                    if (waitStarted != 0)
                    {
                        _connection.Transport.Timeouts.StopBodyRateTimer();
                        _bodyWaited += _connection.Transport.Timeouts.Now - waitStarted;
                    }
                }
            }
            if (result.IsCanceled && _connection.TimedOut != TimerKind.None)
            {
                input.AdvanceTo(result.Buffer.Start);
                Fail();
                throw new RequestRejectedException(RequestRejectionReason.RequestBodyTimeout);
            }
            var data = result.Buffer;
            int written;
            if (!IsChunked)
            {
                written = (int)Math.Min(Math.Min(data.Length, _bodyRemaining), buffer.Length);
                if (written == 0)
                {
                    input.AdvanceTo(data.Start, data.End);
                    if (result.IsCompleted)
                    {
                        throw BodyCutShort();
                    }
                    continue;
                }
                data.Slice(0, written).CopyTo(buffer.Span);
                input.AdvanceTo(data.GetPosition(written));
                _bodyRemaining -= written;
                _bodyComplete = _bodyRemaining == 0;
                _bodyBytesRead += written;
                return written;
            }

            var status = _chunked.Decode(data, buffer.Span, _connection.Settings.Limits, _trailers ??= new RequestHeaders(),
                out var consumed, out written, out var reason);
            if (status == ParseResult.Invalid)
            {
                input.AdvanceTo(consumed);
                Fail();
                throw new RequestRejectedException(reason);
            }
            if (status == ParseResult.Incomplete)
            {
                input.AdvanceTo(consumed, data.End);
                if (result.IsCompleted)
                {
                    throw BodyCutShort();
                }
                continue;
            }
            input.AdvanceTo(consumed);
            _bodyBytesRead += written;
            if (_bodyBytesRead > MaxRequestBodySize)
            {
                // Chunked: the size shows only while reading (docs/design.md section 3: 413 during the read).
                Fail();
                throw new RequestRejectedException(RequestRejectionReason.RequestBodyTooLarge);
            }
            _bodyComplete = _chunked.IsComplete;
            if (written > 0 || _bodyComplete)
            {
                return written;
            }
        }
    }

    /// <summary>
    /// Reads and discards what the app left of the body, so the next request can be parsed.
    /// Returns false when the connection cannot be reused.
    /// </summary>
    internal async ValueTask<bool> DrainBodyAsync()
    {
        // The app is done with the request: the connection takes the input back, and a stream the app
        // kept is refused from here rather than racing this drain for the bytes.
        _responseState = ResponseState.Idle;
        if (_bodyComplete)
        {
            return true;
        }
        if (!CanDrainCheaply)
        {
            // Failed framing, a client still waiting for 100 Continue, or more left than we would skip.
            return false;
        }
        long budget = MaxDrainBytes;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        // DrainEntityBody bounds the whole skip; when it fires the read fails and the connection closes.
        _connection.StartTimer(TimerKind.DrainEntityBody, _connection.Settings.DrainEntityBody);
        try
        {
            _bodyReadStarted = true;
            MaxRequestBodySize = null;
            while (!_bodyComplete)
            {
                int read = await ReadBodyCoreAsync(scratch, default).ConfigureAwait(false);
                budget -= read;
                if (budget < 0)
                {
                    return false;
                }
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return false;
        }
        finally
        {
            _connection.StopTimer();
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>True when a drain at the end of the request could keep the connection (known small remainder).</summary>
    internal bool CanDrainCheaply =>
        _bodyComplete || (!_bodyFailed && !(ExpectContinue && !_bodyReadStarted) && (IsChunked || _bodyRemaining <= MaxDrainBytes));

    /// <summary>
    /// The input ended before the body: the client sent its FIN too early (400, Unexpected end of request
    /// content) or reset the connection (an IOException, as a socket error is). A reset aborts the
    /// request here, before the read fails, so an app that reacts to the failure finds RequestAborted
    /// fired: the transport's own signal may come later (on epoll it leaves the loop thread first).
    /// </summary>
    private Exception BodyCutShort()
    {
        Fail();
        if (_connection.Transport.InputReset is not { } reset)
        {
            return new RequestRejectedException(RequestRejectionReason.UnexpectedEndOfBody);
        }
        OnConnectionClosed();
        return new Sockets.ConnectionResetException(reset.InnerException ?? reset);
    }

    private void Fail()
    {
        _bodyFailed = true;
        _connection.EndKeepAlive(KeepAliveEndReason.RequestBodyFailed);
    }
}
