using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using HttpSysLite.Transport.Caching;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Output;
using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Sockets;
using HttpVersion = HttpSysLite.Transport.Http.HttpVersion;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// A request as an app process holds it when its driver runs in another process (docs/design.md
/// section 10): the head from the Request frame, and each call on it a message on the channel. The
/// body arrives as the app asks for it (credit), the response leaves as the driver grants room for
/// it, so neither process buffers more than a window. One per request slot of a channel, reused.
/// </summary>
internal sealed class RemoteRequest : IQueuedRequest
{
    /// <summary>Body bytes asked for at a time: one input-pipe window.</summary>
    private const int BodyWindow = TransportConnection.InputPauseThreshold;

    /// <summary>The most body bytes one ResponseData frame carries.</summary>
    private const int MaxDataFrame = 64 * 1024;

    private readonly DriverClient _client;
    private readonly RequestHead _head = new();
    private readonly RequestHeaders _trailers = new();
    private readonly ResponseHeaderWriter _headerWriter = new();
    private readonly ArrayBufferWriter<byte> _scratch = new(1024);
    private readonly ArrayBufferWriter<byte> _frame = new(1024);
    private readonly ArrayBufferWriter<byte> _body = new(4096);
    // Whole frames (header and payload) waiting to go out together: a small response's head, body and
    // end cross in one write, as in-process they reach the socket in one send.
    private readonly ArrayBufferWriter<byte> _outgoing = new(4096);
    private long _bodyBytes;
    private readonly SemaphoreSlim _credit = new(0);
    private Pipe _bodyPipe = NewBodyPipe();
    private CancellationTokenSource _aborted = new();
    private RequestTimestamps _timestamps;
    private IResponseHeaderSource? _headers;
    private uint _stream;
    private long _sendCredit;
    private long _bodyAskedFor;
    private int _state; // 0 created, 1 starting, 2 started, 3 head sent, 4 completed
    private bool _bodyStarted;
    private bool _bodyComplete;
    private RequestRejectionReason? _bodyFailed;
    private bool _discardBody;
    private bool _upgraded;
    private bool _delegated;
    private TaskCompletionSource<X509Certificate2?>? _certificate;
    private int _gone;

    public RemoteRequest(DriverClient client) => _client = client;

    /// <summary>Takes the next request of this slot from its Request frame.</summary>
    public void Begin(uint stream, ReadOnlySpan<byte> payload)
    {
        RequestHeadMessage.Read(payload, _head);
        _stream = stream;
        _timestamps = default;
        _timestamps.DeliveredForIO = System.Diagnostics.Stopwatch.GetTimestamp();
        _trailers.Clear();
        _headers = null;
        _frame.ResetWrittenCount();
        _body.ResetWrittenCount();
        _outgoing.ResetWrittenCount();
        _bodyBytes = 0;
        _sendCredit = RemoteRequestPlayer.InitialSendCredit;
        _bodyAskedFor = 0;
        _state = 0;
        _bodyStarted = false;
        _bodyComplete = !HasRequestBody;
        _bodyFailed = null;
        _discardBody = false;
        _upgraded = false;
        _delegated = false;
        _gone = 0;
        StatusCode = 200;
        ReasonPhrase = null;
        BufferResponseData = false;
        CachePolicy = null;
        MaxRequestBodySize = null;
        if (!_aborted.TryReset())
        {
            _aborted.Dispose();
            _aborted = new CancellationTokenSource();
        }
        // A pipe resets only with both ends complete (completing twice is harmless).
        _bodyPipe.Writer.Complete();
        _bodyPipe.Reader.Complete();
        _bodyPipe.Reset();
    }

    /// <summary>A frame for this request from the driver (the channel's reader: must not wait).</summary>
    public void OnFrame(FrameType type, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case FrameType.BodyData:
                _bodyPipe.Writer.Write(payload);
                _ = _bodyPipe.Writer.FlushAsync(); // never pauses: the credit bounds what is in it
                break;
            case FrameType.BodyEnd:
                var reader = new WireReader(payload);
                RequestHeadMessage.ReadFields(ref reader, _trailers);
                _bodyComplete = true;
                _bodyPipe.Writer.Complete();
                break;
            case FrameType.BodyFailed:
                _bodyFailed = (RequestRejectionReason)new WireReader(payload).ReadUInt32();
                _bodyPipe.Writer.Complete();
                break;
            case FrameType.SendCredit:
                Interlocked.Add(ref _sendCredit, new WireReader(payload).ReadUInt32());
                _credit.Release();
                break;
            case FrameType.Aborted:
                OnGone();
                break;
            case FrameType.Certificate:
                OnCertificate(payload);
                break;
            default:
                throw new WireFormatException($"A {type} frame is not one the driver sends for a request.");
        }
    }

    /// <summary>The request can go no further: the client or the driver ended it, or the channel is gone.</summary>
    public void OnGone()
    {
        if (Interlocked.Exchange(ref _gone, 1) != 0)
        {
            return;
        }
        _bodyPipe.Writer.Complete(new ConnectionResetException(new IOException("The request was aborted.")));
        _credit.Release();
        Volatile.Read(ref _certificate)?.TrySetException(new ConnectionResetException(new IOException("The request was aborted.")));
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The slot moved on.
        }
    }

    public ulong RequestId => _head.RequestId;

    public ulong ConnectionId => _head.ConnectionId;

    public string Method => _head.Method;

    public string RawTarget => _head.RawTarget;

    public string PathBase => _head.PathBase;

    public string Path => _head.Path;

    public string QueryString => _head.QueryString;

    public HttpVersion Version => _head.Version;

    public string Scheme => _head.IsHttps ? "https" : "http";

    public RequestHeaders Headers => _head.Headers;

    public IPEndPoint RemoteEndPoint => _head.RemoteEndPoint;

    public IPEndPoint LocalEndPoint => _head.LocalEndPoint;

    public Tls.TlsConnectionInfo? Tls => _head.Tls;

    public ref readonly RequestTimestamps Timestamps => ref _timestamps;

    public bool HasRequestBody => _head.IsChunked || _head.ContentLength > 0;

    public bool IsUpgradableRequest => _head.IsUpgradableRequest;

    public bool IsCacheableRequest => _head.IsCacheableRequest;

    public object? ServerState { get; set; }

    public CancellationToken RequestAborted => _aborted.Token;

    public long? MaxRequestBodySize { get; set; }

    public double MinBodyBytesPerSecond { get; set; }

    public TimeSpan MinBodyGracePeriod { get; set; }

    public bool HasStartedReadingBody => _bodyStarted;

    public bool IsRequestBodyComplete => _bodyComplete;

    public RequestHeaders Trailers => _trailers;

    public async ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!HasRequestBody && !_upgraded || buffer.IsEmpty)
        {
            return 0;
        }
        if (!_bodyStarted)
        {
            _bodyStarted = true;
            // An upgraded connection's bytes are not a body: no limit or rate applies to them, as in-process.
            await AskForBodyAsync(first: !_upgraded).ConfigureAwait(false);
        }
        var reader = _bodyPipe.Reader;
        var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var available = result.Buffer;
        if (available.IsEmpty && result.IsCompleted)
        {
            reader.AdvanceTo(available.End);
            if (_bodyFailed is { } reason)
            {
                throw new RequestRejectedException(reason);
            }
            return 0;
        }
        int taken = (int)Math.Min(available.Length, buffer.Length);
        available.Slice(0, taken).CopyTo(buffer.Span);
        reader.AdvanceTo(available.GetPosition(taken));
        _bodyAskedFor -= taken;
        if (!_bodyComplete && _bodyAskedFor <= BodyWindow / 2)
        {
            await AskForBodyAsync(first: false).ConfigureAwait(false);
        }
        return taken;
    }

    /// <summary>
    /// The client's certificate, asked for by the driver now if its port asks on request (a ClientCertificate
    /// frame, answered by a Certificate frame): the same answers and refusals as in-process.
    /// </summary>
    public async ValueTask<X509Certificate2?> ReceiveClientCertificateAsync(CancellationToken cancellationToken)
    {
        var tls = Tls;
        if (tls is null || tls.ClientCertificate is not null)
        {
            return tls?.ClientCertificate;
        }
        ThrowIfGone();
        var answer = new TaskCompletionSource<X509Certificate2?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _certificate, answer, null) is not null)
        {
            throw new InvalidOperationException("A client certificate is being asked for already on this request.");
        }
        try
        {
            await _client.SendAsync(FrameType.ClientCertificate, _stream, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
            var certificate = await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            tls.ClientCertificate = certificate; // the connection keeps it, as in-process
            return certificate;
        }
        finally
        {
            Volatile.Write(ref _certificate, null);
        }
    }

    /// <summary>The driver's Certificate frame: completes the pending ask.</summary>
    private void OnCertificate(ReadOnlySpan<byte> payload)
    {
        var answer = Volatile.Read(ref _certificate);
        if (answer is null)
        {
            return; // the app stopped waiting
        }
        if (payload.IsEmpty)
        {
            throw new WireFormatException("A Certificate frame has no status.");
        }
        switch (payload[0])
        {
            case 0:
                answer.TrySetResult(X509CertificateLoader.LoadCertificate(payload[1..]));
                break;
            case 1:
                answer.TrySetResult(null);
                break;
            default:
                answer.TrySetException(new InvalidOperationException(System.Text.Encoding.UTF8.GetString(payload[1..])));
                break;
        }
    }

    public int StatusCode { get; set; } = 200;

    public string? ReasonPhrase { get; set; }

    public bool BufferResponseData { get; set; }

    public CachePolicy? CachePolicy { get; set; }

    public bool HasStarted => _state >= 2;

    public bool IsResponseCompleted => _state == 4;

    public bool CanHaveTrailers => Version == HttpVersion.Http11 && !ReferenceEquals(Method, KnownMethods.Head)
        && (_state < 2 || _headers?.ContentLength is null);

    public long UnflushedBodyBytes => _body.WrittenCount;

    public bool TryBeginStarting()
    {
        if (_state != 0 || Volatile.Read(ref _gone) != 0)
        {
            return false;
        }
        _state = 1;
        return true;
    }

    public void EndStarting()
    {
        if (_state == 1)
        {
            _state = 0;
        }
    }

    public void StartResponse(IResponseHeaderSource headers)
    {
        if (_state != 1)
        {
            throw new InvalidOperationException(_state < 1
                ? "The response must be starting (TryBeginStarting) before it starts."
                : "The response has already started.");
        }
        // Checked and encoded now, so an invalid field fails here, as in-process.
        _frame.ResetWrittenCount();
        ResponseHeadMessage.Write(_frame, _headerWriter, _scratch, StatusCode, ReasonPhrase, BufferResponseData, CachePolicy, headers);
        _headers = headers;
        _state = 2;
    }

    public void DiscardResponseBody() => _discardBody = true;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        ThrowIfCannotWrite();
        return _body.GetMemory(sizeHint);
    }

    public void Advance(int bytes)
    {
        ThrowIfCannotWrite();
        _body.Advance(bytes);
        if (_discardBody)
        {
            _body.ResetWrittenCount();
        }
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (!data.IsEmpty)
        {
            ThrowIfCannotWrite();
        }
        if (!_discardBody)
        {
            _body.Write(data.Span);
        }
        return FlushAsync(cancellationToken);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => FlushCoreAsync(final: false, cancellationToken);

    /// <summary>
    /// Frames what was written (the head once, then body bytes within the driver's grant) and sends it.
    /// A body that has reached its Content-Length waits for the response's end, so the three cross as
    /// one write; the client cannot tell, as no byte of it is owed before then.
    /// </summary>
    private async ValueTask FlushCoreAsync(bool final, CancellationToken cancellationToken)
    {
        ThrowIfGone();
        if (_delegated)
        {
            throw new InvalidOperationException("The request was delegated to another request queue; its response is written there.");
        }
        if (_state == 2)
        {
            AppendFrame(FrameType.ResponseHead, _frame.WrittenSpan);
            _state = 3;
        }
        if (_state < 2)
        {
            return;
        }
        var pending = _body.WrittenMemory;
        int sent = 0;
        while (sent < pending.Length)
        {
            long credit;
            while ((credit = Interlocked.Read(ref _sendCredit)) <= 0)
            {
                await SendOutgoingAsync().ConfigureAwait(false); // what is framed goes first, so room comes back
                await _credit.WaitAsync(cancellationToken).ConfigureAwait(false);
                ThrowIfGone();
            }
            int chunk = (int)Math.Min(Math.Min(credit, MaxDataFrame), pending.Length - sent);
            Interlocked.Add(ref _sendCredit, -chunk);
            AppendFrame(FrameType.ResponseData, pending.Span.Slice(sent, chunk));
            sent += chunk;
        }
        _bodyBytes += pending.Length;
        _body.ResetWrittenCount();
        if (!final && !(_headers?.ContentLength is long length && _bodyBytes >= length))
        {
            await SendOutgoingAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask CompleteAsync()
    {
        if (_state == 4)
        {
            return;
        }
        if (_state < 2)
        {
            throw new InvalidOperationException("The response must be started before it is completed.");
        }
        await FlushCoreAsync(final: true, default).ConfigureAwait(false);
        _frame.ResetWrittenCount();
        if (_headers!.HasTrailers)
        {
            HeaderBlock.Write(_frame, _headerWriter, _scratch, _headers, trailers: true);
        }
        else
        {
            new WireWriter(_frame).WriteUInt32(0);
        }
        AppendFrame(FrameType.ResponseEnd, _frame.WrittenSpan);
        await SendOutgoingAsync().ConfigureAwait(false);
        _state = 4;
    }

    private void AppendFrame(FrameType type, ReadOnlySpan<byte> payload)
    {
        new FrameHeader(payload.Length, type, 0, _stream).Write(_outgoing.GetSpan(FrameHeader.Size));
        _outgoing.Advance(FrameHeader.Size);
        _outgoing.Write(payload);
    }

    private async ValueTask SendOutgoingAsync()
    {
        if (_outgoing.WrittenCount == 0)
        {
            return;
        }
        await _client.SendFramesAsync(_outgoing.WrittenMemory).ConfigureAwait(false);
        _outgoing.ResetWrittenCount();
    }

    /// <summary>
    /// Sends the 101 head and the Upgrade frame; from then on the stream's bytes cross as body frames, under
    /// the same credits as a body, so an upgraded connection has the same backpressure both ways.
    /// </summary>
    public async ValueTask<Stream> UpgradeAsync()
    {
        if (!IsUpgradableRequest)
        {
            throw new InvalidOperationException("This request cannot be upgraded.");
        }
        if (_state != 2 || StatusCode != 101)
        {
            throw new InvalidOperationException("Start a 101 response before upgrading.");
        }
        ThrowIfGone();
        AppendFrame(FrameType.ResponseHead, _frame.WrittenSpan);
        AppendFrame(FrameType.Upgrade, ReadOnlySpan<byte>.Empty);
        _state = 3;
        _upgraded = true;
        _bodyStarted = false;
        _bodyComplete = false;
        _bodyAskedFor = 0;
        await SendOutgoingAsync().ConfigureAwait(false);
        return new RemoteUpgradedStream(this);
    }

    public bool CanDelegate => _state == 0 && !_bodyStarted && Volatile.Read(ref _gone) == 0;

    /// <summary>
    /// Sends the Delegate frame; the driver checks the destination and delivers the request there (a
    /// destination that is missing is answered 503 and logged by the driver, since this call cannot wait
    /// for its answer). The response ends here.
    /// </summary>
    public void Delegate(string queueName, string urlPrefix)
    {
        if (!CanDelegate)
        {
            throw new InvalidOperationException("This request cannot be delegated: its response has started or its body has been read (CanDelegate is false).");
        }
        var payload = new ArrayBufferWriter<byte>(64 + queueName.Length + urlPrefix.Length);
        var writer = new WireWriter(payload);
        writer.WriteUtf8(queueName);
        writer.WriteUtf8(urlPrefix);
        _state = 4;
        _delegated = true;
        _ = _client.SendAsync(FrameType.Delegate, _stream, payload.WrittenMemory).AsTask();
    }

    public void Abort()
    {
        if (Volatile.Read(ref _gone) == 0)
        {
            _ = _client.SendAsync(FrameType.Abort, _stream, ReadOnlyMemory<byte>.Empty).AsTask();
        }
        OnGone();
    }

    private async ValueTask AskForBodyAsync(bool first)
    {
        _bodyAskedFor += BodyWindow;
        // The first ask carries the request's limits, which the driver applies to its read of the body.
        // Laid out in the channel's own buffer: an ask costs no array.
        var ask = (First: first, Max: MaxRequestBodySize ?? -1, Rate: MinBodyBytesPerSecond, Grace: MinBodyGracePeriod.Ticks);
        await _client.SendAsync(FrameType.ReadBody, _stream, ask, static (output, a) =>
        {
            var span = output.GetSpan(28);
            BinaryPrimitives.WriteUInt32LittleEndian(span, BodyWindow);
            if (a.First)
            {
                BinaryPrimitives.WriteInt64LittleEndian(span[4..], a.Max);
                BinaryPrimitives.WriteDoubleLittleEndian(span[12..], a.Rate);
                BinaryPrimitives.WriteInt64LittleEndian(span[20..], a.Grace);
            }
            output.Advance(a.First ? 28 : 4);
        }).ConfigureAwait(false);
    }

    /// <summary>As in-process: no body for 1xx, 204 or 304 (RFC 9110 section 6.4.1) unless upgraded, none after a delegation.</summary>
    private void ThrowIfCannotWrite()
    {
        if (_delegated)
        {
            throw new InvalidOperationException("The request was delegated to another request queue; its response is written there.");
        }
        if ((StatusCode < 200 || StatusCode is 204 or 304) && !_upgraded)
        {
            throw new InvalidOperationException($"Writing to the response body is invalid for responses with status code {StatusCode}.");
        }
    }

    private void ThrowIfGone()
    {
        if (Volatile.Read(ref _gone) != 0)
        {
            throw new ConnectionResetException(new IOException("The request was aborted: the client or the driver ended it."));
        }
    }

    private static Pipe NewBodyPipe() => new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
}
