using System.Buffers;
using System.Threading.Channels;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The driver's side of one request delivered to an app process: it plays the app's messages on the
/// request's RequestContext, in order (head, body bytes, end or abort), so every behaviour of the
/// driver is the in-process one. The channel's reader hands it frames without waiting; two pumps of its
/// own wait instead: one writes the response to the client, one reads the body the app has asked for.
/// </summary>
internal sealed class RemoteRequestPlayer
{
    /// <summary>Response bytes granted to the app up front: one output-pipe window (docs/design.md section 10).</summary>
    public const int InitialSendCredit = TransportConnection.OutputPauseThreshold;

    private const int BodyChunk = 16 * 1024;

    private readonly ServiceChannel _channel;
    private readonly RequestContext _request;
    private readonly uint _stream;
    // Synchronous continuations: the pump runs on the channel's reader as a frame arrives (an I/O loop of
    // its own, as the epoll loop parses a head where it read it); it leaves at its first real wait.
    private readonly Channel<Operation> _operations = Channel.CreateUnbounded<Operation>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ReceivedResponseHead _head = new();
    private readonly SemaphoreSlim _bodyCredit = new(0);
    // Set by the Upgrade frame (which the channel reads before any ReadBody of the upgraded stream), once
    // the 101 is out: the connection's bytes then cross both ways in place of a body.
    private TaskCompletionSource<Stream>? _upgrade;
    private Stream? _upgraded;
    private long _creditBytes;
    private long _returnedBytes;
    private int _bodyPumpStarted;
    private bool _finished;

    public RemoteRequestPlayer(ServiceChannel channel, RequestContext request, uint stream)
    {
        _channel = channel;
        _request = request;
        _stream = stream;
    }

    /// <summary>Completes when the response is complete or the request aborted.</summary>
    public Task Completion => _done.Task;

    /// <summary>Runs the response pump until the app ends the response; tells the app if the client goes first.</summary>
    public async Task RunAsync()
    {
        using var aborted = _request.RequestAborted.Register(static s => ((RemoteRequestPlayer)s!).OnAborted(), this);
        try
        {
            await foreach (var operation in _operations.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (await PlayAsync(operation).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the app's response was invalid here as it would be in-process: the
            // request ends cut off.
            _request.Abort();
        }
        finally
        {
            // The body pump may wait for a credit that will never come (the app stopped reading): it ends
            // now, before the request's context serves another request.
            Volatile.Write(ref _finished, true);
            _bodyCredit.Release();
            _done.TrySetResult();
        }
    }

    /// <summary>One frame for this request, from the channel's reader (must not wait).</summary>
    public void OnFrame(FrameType type, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case FrameType.ResponseHead:
                ResponseHeadMessage.Read(payload, _head);
                _operations.Writer.TryWrite(new Operation(type, null, 0));
                break;
            case FrameType.ResponseData:
                var copy = ArrayPool<byte>.Shared.Rent(payload.Length);
                payload.CopyTo(copy);
                _operations.Writer.TryWrite(new Operation(type, copy, payload.Length));
                break;
            case FrameType.ResponseEnd:
                var reader = new WireReader(payload);
                HeaderBlock.Read(ref reader, _head.TrailerList);
                _operations.Writer.TryWrite(new Operation(type, null, 0));
                break;
            case FrameType.Upgrade:
                _upgrade = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
                _operations.Writer.TryWrite(new Operation(type, null, 0));
                break;
            case FrameType.Delegate:
                var names = new WireReader(payload);
                string queueName = names.ReadUtf8();
                string urlPrefix = names.ReadUtf8();
                _operations.Writer.TryWrite(new Operation(type, null, 0, queueName, urlPrefix));
                break;
            case FrameType.ClientCertificate:
                _ = AnswerCertificateAsync();
                break;
            case FrameType.Abort:
                _request.Abort();
                _operations.Writer.TryWrite(new Operation(type, null, 0));
                break;
            case FrameType.ReadBody:
                var ask = new WireReader(payload);
                Interlocked.Add(ref _creditBytes, ask.ReadUInt32());
                if (Interlocked.Exchange(ref _bodyPumpStarted, 1) == 0)
                {
                    if (!ask.IsEmpty)
                    {
                        // The first ask carries the app's limits for this request, applied before the first read.
                        long max = ask.ReadInt64();
                        _request.MaxRequestBodySize = max < 0 ? null : max;
                        _request.MinBodyBytesPerSecond = BitConverter.Int64BitsToDouble(ask.ReadInt64());
                        _request.MinBodyGracePeriod = TimeSpan.FromTicks(ask.ReadInt64());
                    }
                    _ = PumpBodyAsync();
                }
                _bodyCredit.Release();
                break;
            default:
                throw new WireFormatException($"A {type} frame is not one an app sends for a request.");
        }
    }

    /// <summary>The app's process is gone: a response not started is answered 503, a started one is cut off.</summary>
    public void OnChannelClosed()
    {
        _operations.Writer.TryWrite(new Operation(FrameType.CloseQueue, null, 0));
        _operations.Writer.TryComplete();
    }

    /// <summary>Plays one operation; true when the response has ended.</summary>
    private async ValueTask<bool> PlayAsync(Operation operation)
    {
        switch (operation.Type)
        {
            case FrameType.ResponseHead:
                _request.StatusCode = _head.StatusCode;
                _request.ReasonPhrase = _head.ReasonPhrase;
                _request.BufferResponseData = _head.BufferResponseData;
                _request.CachePolicy = _head.CachePolicy;
                if (_request.TryBeginStarting())
                {
                    _request.StartResponse(_head);
                }
                return false;
            case FrameType.ResponseData:
                try
                {
                    var data = operation.Buffer.AsMemory(0, operation.Length);
                    if (_upgraded is { } upgraded)
                    {
                        await upgraded.WriteAsync(data).ConfigureAwait(false);
                    }
                    else
                    {
                        await _request.WriteAsync(data).ConfigureAwait(false);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(operation.Buffer!);
                }
                // What went into the connection's output may be replaced by more from the app, half a
                // window at a time (a small response never needs more than its first grant).
                _returnedBytes += operation.Length;
                if (_returnedBytes >= InitialSendCredit / 2)
                {
                    uint grant = (uint)_returnedBytes;
                    _returnedBytes = 0;
                    await _channel.SendCreditAsync(_stream, grant).ConfigureAwait(false);
                }
                return false;
            case FrameType.Upgrade:
                try
                {
                    _upgraded = await _request.UpgradeAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    _upgrade!.TrySetException(ex);
                    throw;
                }
                _upgrade!.TrySetResult(_upgraded);
                return false;
            case FrameType.ResponseEnd:
                await _request.CompleteAsync().ConfigureAwait(false);
                return true;
            case FrameType.Delegate:
                try
                {
                    // The connection delivers it to the destination once this consumer returns.
                    _request.Delegate(operation.QueueName!, operation.UrlPrefix!);
                    return true;
                }
                catch (InvalidOperationException ex)
                {
                    // The app could not be told (its call returned at once): the driver logs it, the client gets 503.
                    _channel.Report($"A request delegated by {_channel.Peer?.ToString() ?? "an app process"} to '{operation.QueueName}' at {operation.UrlPrefix} was answered 503: {ex.Message}");
                    return await AnswerServiceUnavailableAsync().ConfigureAwait(false);
                }
            case FrameType.CloseQueue when !_request.HasStarted:
                // The app's process is gone before its response started: 503, and the connection closes.
                return await AnswerServiceUnavailableAsync().ConfigureAwait(false);
            case FrameType.CloseQueue:
                _request.Abort();
                return true;
            default:
                return true; // aborted
        }
    }

    /// <summary>HttpReceiveClientCertificate for the app: the in-process call, its answer sent back as a Certificate frame.</summary>
    private async Task AnswerCertificateAsync()
    {
        byte status;
        byte[] data;
        try
        {
            var certificate = await _request.ReceiveClientCertificateAsync(_request.RequestAborted).ConfigureAwait(false);
            (status, data) = certificate is null ? ((byte)1, Array.Empty<byte>()) : ((byte)0, certificate.RawData);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            (status, data) = ((byte)2, System.Text.Encoding.UTF8.GetBytes(ex.Message));
        }
        await _channel.SendCertificateAsync(_stream, status, data).ConfigureAwait(false);
    }

    /// <summary>A 503 with Connection: close, for a response the app can no longer give; true (the response has ended).</summary>
    private async ValueTask<bool> AnswerServiceUnavailableAsync()
    {
        if (!_request.TryBeginStarting())
        {
            _request.Abort();
            return true;
        }
        _head.Reset();
        _head.StatusCode = 503;
        _head.ContentLength = 0;
        _head.HeaderList.Add(new("Connection", "close"));
        _request.StatusCode = 503;
        _request.ReasonPhrase = null;
        _request.StartResponse(_head);
        await _request.CompleteAsync().ConfigureAwait(false);
        return true;
    }

    private async Task PumpBodyAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BodyChunk);
        try
        {
            // An upgraded connection's bytes are read as they come, until the client's FIN.
            var upgraded = _upgrade is { } upgrade ? await upgrade.Task.ConfigureAwait(false) : null;
            while (true)
            {
                while (Interlocked.Read(ref _creditBytes) <= 0 && !Volatile.Read(ref _finished))
                {
                    await _bodyCredit.WaitAsync(_request.RequestAborted).ConfigureAwait(false);
                }
                if (Volatile.Read(ref _finished))
                {
                    return; // the response ended: what is left of the body is the connection's to drain
                }
                int want = (int)Math.Min(BodyChunk, Interlocked.Read(ref _creditBytes));
                int read;
                try
                {
                    read = upgraded is null
                        ? await _request.ReadBodyAsync(buffer.AsMemory(0, want)).ConfigureAwait(false)
                        : await upgraded.ReadAsync(buffer.AsMemory(0, want)).ConfigureAwait(false);
                }
                catch (RequestRejectedException ex)
                {
                    await _channel.SendAsync(FrameType.BodyFailed, _stream, (uint)ex.Reason).ConfigureAwait(false);
                    return;
                }
                if (read == 0)
                {
                    await _channel.SendBodyEndAsync(_stream, _request.Trailers).ConfigureAwait(false);
                    return;
                }
                Interlocked.Add(ref _creditBytes, -read);
                await _channel.SendAsync(FrameType.BodyData, _stream, buffer.AsMemory(0, read)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The client or the app went away (or the upgrade failed); RequestAborted tells the app.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void OnAborted()
    {
        _ = _channel.SendAbortedAsync(_stream);
        _operations.Writer.TryComplete();
    }

    private readonly record struct Operation(FrameType Type, byte[]? Buffer, int Length, string? QueueName = null, string? UrlPrefix = null);
}
