using System.Buffers;
using System.Buffers.Text;
using System.Numerics;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Output;
using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The Life of a Write, in order:
///  1. The server starts the response (<see cref="StartResponse"/>) once its OnStarting callbacks ran;
///     headers are fixed from then on. If the app declared Content-Length, the head is produced at once
///     and body bytes go straight into the connection's output buffer.
///  2. Otherwise body bytes collect in a pending buffer. An explicit flush commits the head as chunked
///     (HTTP/1.1) or close-delimited (HTTP/1.0), as Kestrel and HttpSys do on an early flush.
///  3. If the app finishes without flushing, the head is produced with Content-Length = what it wrote,
///     so small responses go out framed by length, in one send.
///  4. Completing writes the last chunk and the trailers when chunked, and checks a declared length.
/// A flush waits while the output holds more than its bound: that is the backpressure of an unsent body.
/// How long a body write waits is HTTP.sys's BUFFER_DATA choice (docs/design.md section 6): buffered, it
/// completes once copied into that bound; unbuffered, once no more than
/// <see cref="TransportConnection.UnbufferedSendWindow"/> of the output is unacknowledged.
/// </summary>
public sealed partial class RequestContext
{
    internal static ReadOnlySpan<byte> ServerHeaderLine => "Server: HttpSysLite\r\n"u8;

    private ResponseState _responseState;
    private ResponseFraming _framing;
    private IResponseHeaderSource? _headerSource;
    private long? _responseContentLength;
    private long _responseBytes;
    private long _unflushedBytes;
    private byte[]? _pending;
    private int _pendingCount;
    private bool _upgrading;
    private bool _upgraded;
    private UpgradedStream? _upgradedStream;
    private Memory<byte> _directMemory;
    private PrefixRegistration? _delegatedTo;

    private enum ResponseFraming
    {
        None,
        ContentLength,
        Chunked,
        CloseDelimited,
        AppManaged,
        Upgrade,
    }

    /// <summary>
    /// HTTP_SEND_RESPONSE_FLAG_BUFFER_DATA for this response: whether a body write completes once copied
    /// into the connection's bounded send buffer (true) or once the client has acknowledged all but a small window (false).
    /// </summary>
    public bool BufferResponseData { get; set; }

    /// <summary>The status code; 200 until the app sets another.</summary>
    public int StatusCode { get; set; } = 200;

    /// <summary>A custom reason phrase, or null for the standard one.</summary>
    public string? ReasonPhrase { get; set; }

    /// <summary>
    /// Where the response is in its life. <see cref="ResponseState.Aborted"/> once the connection is
    /// aborted, unless the response completed first.
    /// </summary>
    public ResponseState ResponseState =>
        _responseState < ResponseState.Completed && _connection.IsAborted ? ResponseState.Aborted : _responseState;

    /// <summary>True once the server started the response (headers are then fixed).</summary>
    public bool HasStarted => _responseState >= ResponseState.Started;

    /// <summary>True once the connection was handed to the app as a raw stream (101).</summary>
    internal bool IsUpgraded => _upgraded;

    /// <summary>
    /// The upgraded request is over: its connection gets its pipes back if its stream gave them up while
    /// silent, and keeps them, so the server's own writes and closes find them.
    /// </summary>
    internal ValueTask EndUpgradedSuspensionsAsync() => _upgradedStream?.EndSuspensionsAsync() ?? default;

    /// <summary>
    /// True while a delivered response is neither complete nor handed over as a raw stream: ending the
    /// connection now would cut it short.
    /// </summary>
    internal bool IsResponseUnfinished => _responseState is > ResponseState.Idle and < ResponseState.Completed && !_upgraded;

    /// <summary>True once the response is complete.</summary>
    public bool IsResponseCompleted => _responseState == ResponseState.Completed;

    /// <summary>Body bytes written since the last flush (PipeWriter.UnflushedBytes).</summary>
    public long UnflushedBodyBytes => _unflushedBytes;

    /// <summary>True when the response will end with chunked framing (so trailers can be sent).</summary>
    public bool CanHaveTrailers => Version == HttpVersion.Http11 && !IsHeadRequest && (_responseState < ResponseState.HeadWritten || _framing == ResponseFraming.Chunked);

    private bool IsBodylessStatus => StatusCode < 200 || StatusCode == 204 || StatusCode == 304;

    private bool WritesDirect =>
        _responseState == ResponseState.HeadWritten && !IsHeadRequest && _framing != ResponseFraming.Chunked;

    private void ResetResponse()
    {
        _responseState = ResponseState.Idle;
        _framing = ResponseFraming.None;
        _headerSource = null;
        _responseContentLength = null;
        _responseBytes = 0;
        _unflushedBytes = 0;
        _pendingCount = 0;
        if (_pending is not null)
        {
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = null;
        }
        _upgrading = false;
        _upgraded = false;
        _upgradedStream = null;
        _directMemory = default;
        _delegatedTo = null;
        _capture.Reset();
        BufferResponseData = false;
        StatusCode = 200;
        ReasonPhrase = null;
    }

    /// <summary>
    /// True while the request may be delegated (HttpSys's CanDelegate): delivered, its response not
    /// started and its body not read, so another queue's app can take it whole.
    /// </summary>
    public bool CanDelegate => _responseState == ResponseState.Created && !HasStartedReadingBody && _delegatedTo is null;

    /// <summary>True once the consumer delegated the request and before it is delivered to the destination.</summary>
    internal bool IsDelegated => _delegatedTo is not null;

    /// <summary>
    /// Hands the request to the request queue <paramref name="queueName"/>, to be served under its prefix
    /// <paramref name="urlPrefix"/> (HttpDelegateRequestEx). This response ends here: nothing more may be
    /// written to it, and once the consumer returns, the connection delivers the request to that queue as
    /// if it had been routed there, body unread and response not started.
    /// </summary>
    /// <exception cref="InvalidOperationException">The response started, the body was read, or no such queue holds that prefix.</exception>
    public void Delegate(string queueName, string urlPrefix)
    {
        ThrowIfIdle();
        if (!CanDelegate)
        {
            throw new InvalidOperationException("This request cannot be delegated: its response has started or its body has been read (CanDelegate is false).");
        }
        UrlPrefix prefix;
        try
        {
            prefix = UrlPrefix.Create(urlPrefix);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"'{urlPrefix}' is not a URL prefix a request can be delegated to: {ex.Message}", ex);
        }
        _delegatedTo = _connection.Driver.FindRegistration(queueName, prefix, out string? missing)
            ?? throw new InvalidOperationException(missing);
        _responseState = ResponseState.Completed; // from the consumer's side the request is over
    }

    /// <summary>The destination of a delegation, with the response back at its start for the destination's app; null if none.</summary>
    internal PrefixRegistration? TakeDelegation()
    {
        var destination = _delegatedTo;
        if (destination is not null)
        {
            ResetResponse();
            _responseState = ResponseState.Created;
        }
        return destination;
    }

    /// <summary>Drops what the app wrote before the response started (the server is replacing the response).</summary>
    public void DiscardResponseBody()
    {
        ThrowIfIdle();
        if (_responseState is not (ResponseState.Created or ResponseState.Starting))
        {
            throw new InvalidOperationException("The response has already started.");
        }
        _pendingCount = 0;
        _responseBytes = 0;
        _unflushedBytes = 0;
    }

    /// <summary>
    /// Moves a <see cref="ResponseState.Created"/> response to <see cref="ResponseState.Starting"/>: the
    /// server is about to run its OnStarting callbacks and fix the headers. False past Created (started,
    /// starting, or the request has ended): then there is nothing to start, and a write that asked is
    /// refused or waits in the pending buffer as the state says.
    /// </summary>
    public bool TryBeginStarting()
    {
        if (_responseState != ResponseState.Created)
        {
            return false;
        }
        _responseState = ResponseState.Starting;
        return true;
    }

    /// <summary>
    /// Ends a start that did not reach <see cref="StartResponse"/> (a callback or a header failed): back to
    /// <see cref="ResponseState.Created"/>, so the server can still replace the response. No-op once started.
    /// </summary>
    public void EndStarting()
    {
        if (_responseState == ResponseState.Starting)
        {
            _responseState = ResponseState.Created;
        }
    }

    /// <summary>
    /// Fixes the headers. The server calls this after its OnStarting callbacks, before the first body byte.
    /// Every field is checked here, while the response can still be replaced: an invalid one throws and
    /// leaves the response <see cref="ResponseState.Starting"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A header is invalid, or more bytes were written than its Content-Length.</exception>
    public void StartResponse(IResponseHeaderSource headers)
    {
        if (_responseState != ResponseState.Starting)
        {
            throw new InvalidOperationException(_responseState < ResponseState.Starting
                ? "The response must be starting (TryBeginStarting) before it starts."
                : "The response has already started.");
        }
        HeaderWriter.Check(headers, trailers: false);
        if (_responseBytes > headers.ContentLength && !IsHeadRequest)
        {
            throw new InvalidOperationException($"Response Content-Length mismatch: too many bytes written ({_responseBytes} of {headers.ContentLength}).");
        }
        _headerSource = headers;
        _responseState = ResponseState.Started;
        _capture.Begin(headers, _connection.Driver.Cache);
        if (headers.ContentLength is not null && !headers.HasTrailers && StatusCode != 101)
        {
            // The length is known: produce the head now, so body bytes go straight to the output buffer.
            CommitHead(final: false);
            MovePendingToOutput();
        }
    }

    /// <summary>Memory for the next body bytes; commit them with <see cref="Advance"/>.</summary>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        ThrowIfCannotWrite();
        if (WritesDirect)
        {
            return _directMemory = _connection.Transport.Output.GetMemory(sizeHint);
        }
        int needed = Math.Max(sizeHint, 1);
        if (_pending is null || _pending.Length - _pendingCount < needed)
        {
            GrowPending(needed);
        }
        return _pending.AsMemory(_pendingCount);
    }

    /// <summary>Commits <paramref name="bytes"/> written into the memory from <see cref="GetMemory"/>.</summary>
    public void Advance(int bytes)
    {
        ThrowIfCannotWrite();
        long total = _responseBytes + bytes;
        long? declared = _responseContentLength ?? _headerSource?.ContentLength;
        if (total > declared && !IsHeadRequest)
        {
            throw new InvalidOperationException($"Response Content-Length mismatch: too many bytes written ({total} of {declared}).");
        }
        _responseBytes = total;
        _unflushedBytes += bytes;
        if (WritesDirect)
        {
            if (_capture.IsCopying)
            {
                _capture.Append(_directMemory.Span[..bytes], _framing == ResponseFraming.ContentLength);
            }
            _connection.Transport.Output.Advance(bytes);
        }
        else if (!IsHeadRequest)
        {
            _pendingCount += bytes; // a HEAD response counts the bytes for its Content-Length and drops them
        }
    }

    /// <summary>Copies <paramref name="data"/> into the body and flushes.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var remaining = data.Span;
        while (!remaining.IsEmpty)
        {
            // At most a pool block: a larger hint makes the pipe allocate an unpooled array.
            var memory = GetMemory(Math.Min(remaining.Length, Buffers.BlockMemoryPool.BlockSize)).Span;
            int take = Math.Min(memory.Length, remaining.Length);
            remaining[..take].CopyTo(memory);
            Advance(take);
            remaining = remaining[take..];
        }
        return FlushAsync(cancellationToken);
    }

    /// <summary>Sends what was written so far: an early flush commits the head without a Content-Length.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_responseState < ResponseState.Started)
        {
            ThrowIfIdle();
            throw new InvalidOperationException("The response must be started before it is flushed.");
        }
        if (_responseState == ResponseState.Started)
        {
            CommitHead(final: false);
        }
        _capture.OnFlush();
        MovePendingToOutput();
        if (BufferResponseData || IsWholeBodyWritten)
        {
            return FlushOutputAsync(cancellationToken);
        }
        return FlushUntilSentAsync(cancellationToken);
    }

    /// <summary>
    /// True when no body byte can follow: then nothing is paced by an unbuffered wait, so the write that
    /// completes a declared length (or a HEAD response) completes once flushed and the connection moves on.
    /// </summary>
    private bool IsWholeBodyWritten =>
        IsHeadRequest || _framing == ResponseFraming.None || (_framing == ResponseFraming.ContentLength && _responseBytes == _responseContentLength);

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushUntilSentAsync(CancellationToken cancellationToken)
    {
        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
        await _connection.Transport.WhenSentAsync(TransportConnection.UnbufferedSendWindow, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the response: the head if not yet sent, the rest of the body, the last chunk and trailers.</summary>
    /// <exception cref="InvalidOperationException">Fewer bytes than the declared Content-Length were written.</exception>
    public async ValueTask CompleteAsync()
    {
        if (_responseState == ResponseState.Completed)
        {
            return;
        }
        if (_responseState < ResponseState.Started)
        {
            ThrowIfIdle();
            throw new InvalidOperationException("The response must be started before it is completed.");
        }
        if (_upgradedStream is { } upgraded)
        {
            await upgraded.EndSuspensionsAsync().ConfigureAwait(false); // what follows writes to the output
        }
        if (_headerSource!.HasTrailers)
        {
            // Before the head or the last chunk goes out: a trailer with a line break would forge a field
            // after the last chunk (commit 6b9eaf7); refused here, the response is cut short instead.
            HeaderWriter.Check(_headerSource, trailers: true);
        }
        if (_responseState == ResponseState.Started)
        {
            CommitHead(final: true);
        }
        if (_framing == ResponseFraming.ContentLength)
        {
            _capture.OnWholeBodyPending(_pendingCount);
        }
        MovePendingToOutput();
        var output = _connection.Transport.Output;
        if (_framing == ResponseFraming.Chunked)
        {
            // last-chunk trailer-section CRLF (RFC 9112 section 7.1).
            output.Write("0\r\n"u8);
            var writer = HeaderWriter;
            writer.Reset(output);
            _headerSource.WriteTrailers(writer);
            writer.EndSection();
            output.Write("\r\n"u8);
        }
        _responseState = ResponseState.Completed;
        var log = Diagnostics.HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            // FastSend here, not per flush: as in HTTP.sys it says the last of the response is queued, so a
            // trace reads FastResp, FastSend once per response whatever the app's write pattern (one write
            // with a declared length writes straight to the output and never had a flush to report).
            log.FastSend(RequestId, ConnectionId, StatusCode);
            log.SendComplete(RequestId, ConnectionId, _responseBytes);
        }
        if (_framing == ResponseFraming.ContentLength && !IsHeadRequest && _responseBytes < _responseContentLength)
        {
            // The client would wait for bytes that never come: the connection must not be reused.
            _connection.EndKeepAlive(KeepAliveEndReason.ContentLengthMismatch);
            throw new InvalidOperationException($"Response Content-Length mismatch: too few bytes written ({_responseBytes} of {_responseContentLength}).");
        }
        if (_bodyComplete && _connection.KeepAlive && _connection.HasBufferedInput())
        {
            // Pipelining: the next request is already here. Leave this response in the output buffer;
            // the connection flushes before it waits for input, so N responses go out in one send.
            _unflushedBytes = 0;
            return;
        }
        await FlushOutputAsync(default).ConfigureAwait(false);
    }

    /// <summary>
    /// Switches protocols: sends the 101 head the server prepared and returns the raw connection as a
    /// stream. The connection is closed when the request ends.
    /// </summary>
    public async ValueTask<Stream> UpgradeAsync()
    {
        if (!IsUpgradableRequest)
        {
            throw new InvalidOperationException("This request cannot be upgraded.");
        }
        if (_responseState != ResponseState.Started || StatusCode != 101)
        {
            throw new InvalidOperationException("Start a 101 response before upgrading.");
        }
        _upgrading = true;
        CommitHead(final: false);
        _upgraded = true;
        _bodyComplete = true;
        _connection.EndKeepAlive(KeepAliveEndReason.Upgraded);
        await FlushOutputAsync(default).ConfigureAwait(false);
        return _upgradedStream = new UpgradedStream(_connection);
    }

    private void ThrowIfCannotWrite()
    {
        if (_delegatedTo is not null)
        {
            throw new InvalidOperationException("The request was delegated to another request queue; its response is written there.");
        }
        if (_responseState is ResponseState.Completed or ResponseState.Idle)
        {
            // Disposed, as Kestrel says it: the body this object wrote is over. An app that kept the stream
            // or writer of an earlier request is refused from its completion until the next request is
            // delivered; the objects are reused per connection (as Kestrel's are), so once the next
            // request runs they are that request's again.
            throw new ObjectDisposedException(nameof(RequestContext), "The response has completed; no more body can be written.");
        }
        if (IsBodylessStatus && !_upgraded)
        {
            throw new InvalidOperationException($"Writing to the response body is invalid for responses with status code {StatusCode}.");
        }
        if (ResponseState == ResponseState.Aborted)
        {
            throw new ConnectionResetException(new IOException("The connection was aborted."));
        }
    }

    /// <summary>Refuses a flush or completion that comes when no request is with the app (an object it kept).</summary>
    private void ThrowIfIdle()
    {
        if (_responseState == ResponseState.Idle)
        {
            throw new ObjectDisposedException(nameof(RequestContext), "The request has ended; its response can no longer be sent.");
        }
    }

    private void GrowPending(int needed)
    {
        int size = Math.Max(4096, (int)BitOperations.RoundUpToPowerOf2((uint)(_pendingCount + needed)));
        byte[] bigger = ArrayPool<byte>.Shared.Rent(size);
        if (_pending is not null)
        {
            _pending.AsSpan(0, _pendingCount).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_pending);
        }
        _pending = bigger;
    }

    private void MovePendingToOutput()
    {
        if (_pendingCount == 0)
        {
            return;
        }
        var output = _connection.Transport.Output;
        var data = _pending.AsSpan(0, _pendingCount);
        if (_capture.IsCopying)
        {
            // Written before the head was produced, with a declared length or as the whole body.
            _capture.Append(data, _responseState >= ResponseState.HeadWritten && _framing == ResponseFraming.ContentLength);
        }
        if (_framing == ResponseFraming.Chunked)
        {
            // chunk = chunk-size CRLF chunk-data CRLF (RFC 9112 section 7.1).
            var span = output.GetSpan(18);
            Utf8Formatter.TryFormat(_pendingCount, span, out int written, new StandardFormat('X'));
            span[written++] = (byte)'\r';
            span[written++] = (byte)'\n';
            output.Advance(written);
            output.Write(data);
            output.Write("\r\n"u8);
        }
        else
        {
            output.Write(data);
        }
        _pendingCount = 0;
        // Back to the pool at once, on the thread that rented it: held across requests by many
        // keep-alive connections, these arrays overflowed the shared pool and were allocated anew.
        ArrayPool<byte>.Shared.Return(_pending!);
        _pending = null;
    }

    private ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        _unflushedBytes = 0;
        ValueTask<System.IO.Pipelines.FlushResult> flush;
        try
        {
            flush = _connection.Transport.FlushAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex); // as the async method this replaces reported it
        }
        if (!flush.IsCompletedSuccessfully)
        {
            return AwaitFlushAsync(flush);
        }
        // Below the output's bound a flush completes at once: no state machine for the usual write.
        return WasSent(flush.Result) ? default : ValueTask.FromException(NotSentException());
    }

    private async ValueTask AwaitFlushAsync(ValueTask<System.IO.Pipelines.FlushResult> flush)
    {
        if (!WasSent(await flush.ConfigureAwait(false)))
        {
            throw NotSentException();
        }
    }

    private bool WasSent(System.IO.Pipelines.FlushResult result) => !result.IsCompleted && !_connection.IsAborted;

    private static ConnectionResetException NotSentException() =>
        new(new IOException("The client disconnected before the response was sent."));

    /// <summary>Produces the status line and header section into the output (not yet flushed).</summary>
    private void CommitHead(bool final)
    {
        var output = _connection.Transport.Output;
        long headStart = output.UnflushedBytes;
        var source = _headerSource!;
        long? contentLength = source.ContentLength;
        bool addContentLength = false;

        ResponseFraming framing;
        if (_upgrading)
        {
            framing = ResponseFraming.Upgrade;
        }
        else if (IsBodylessStatus)
        {
            framing = ResponseFraming.None; // RFC 9110 sections 15.3.5 and 15.4.5: no content
        }
        else if (contentLength is not null)
        {
            framing = ResponseFraming.ContentLength;
        }
        else if (final && !source.HasTrailers)
        {
            framing = ResponseFraming.ContentLength;
            contentLength = _responseBytes;
            addContentLength = true;
        }
        else if (Version == HttpVersion.Http11)
        {
            framing = ResponseFraming.Chunked;
        }
        else
        {
            framing = ResponseFraming.CloseDelimited; // HTTP/1.0 has no chunked coding (RFC 9112 section 6.3 rule 8)
            _connection.EndKeepAlive(KeepAliveEndReason.CloseDelimitedBody);
        }

        if (final && !CanDrainCheaply)
        {
            // Too much unread body to skip: say so now rather than reset later.
            _connection.EndKeepAlive(KeepAliveEndReason.UnreadRequestBody);
        }

        output.Write(ReasonPhrase is null ? ReasonPhrases.StatusLine(StatusCode) : ReasonPhrases.Build(StatusCode, ReasonPhrase));

        var writer = HeaderWriter;
        writer.Reset(output);
        source.WriteHeaders(writer);
        writer.EndSection();
        if (writer.HasTransferEncoding && framing is ResponseFraming.Chunked or ResponseFraming.ContentLength)
        {
            // The app frames its own body; we cannot know where it ends, so the connection ends with it.
            framing = ResponseFraming.AppManaged;
            addContentLength = false;
            _connection.EndKeepAlive(KeepAliveEndReason.AppFramedBody);
        }
        if (writer.HasConnectionClose)
        {
            _connection.EndKeepAlive(KeepAliveEndReason.ResponseConnectionClose);
        }

        if (addContentLength)
        {
            output.Write("Content-Length: "u8);
            var span = output.GetSpan(20);
            Utf8Formatter.TryFormat(contentLength!.Value, span, out int written);
            output.Advance(written);
            output.Write("\r\n"u8);
        }
        else if (framing == ResponseFraming.Chunked)
        {
            output.Write("Transfer-Encoding: chunked\r\n"u8);
        }
        if (!writer.HasConnection && framing != ResponseFraming.Upgrade)
        {
            if (!_connection.KeepAlive)
            {
                output.Write("Connection: close\r\n"u8);
            }
            else if (Version == HttpVersion.Http10)
            {
                output.Write("Connection: keep-alive\r\n"u8);
            }
        }
        if (!writer.HasDate)
        {
            output.Write(HttpDate.HeaderLine);
        }
        if (!writer.HasServer)
        {
            output.Write(ServerHeaderLine);
        }
        output.Write("\r\n"u8);

        _framing = framing;
        _responseContentLength = framing == ResponseFraming.ContentLength ? contentLength : null;
        _responseState = ResponseState.HeadWritten;

        var log = Diagnostics.HttpSysLiteEventSource.Log;
        if (log.IsEnabled())
        {
            // EntityChunkCount: body pieces going out with the head, as in HttpSendHttpResponse.
            log.FastResp(RequestId, ConnectionId, StatusCode, Method, (int)(output.UnflushedBytes - headStart), _pendingCount > 0 ? 1 : 0,
                CachePolicy is null ? "Nocache" : "TimeToLive");
        }
    }
}
