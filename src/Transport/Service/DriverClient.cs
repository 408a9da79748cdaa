using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// An app process's channel to a driver in another process (docs/design.md section 10): it opens one
/// request queue there, and each request the driver delivers becomes a <see cref="RemoteRequest"/>
/// handed to the app's handler on the thread pool. When the driver goes away every request in flight
/// ends (<see cref="IQueuedRequest.RequestAborted"/>) and <see cref="Disconnected"/> fires.
/// </summary>
public sealed class DriverClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly FrameSender _sender;
    private readonly Func<IQueuedRequest, ValueTask> _handler;
    private readonly ConcurrentDictionary<uint, RemoteRequest> _active = new();
    private readonly ConcurrentBag<RemoteRequest> _idle = new();
    private readonly TaskCompletionSource<OpenQueueReply> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _detached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _idleSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _draining;
    private Task? _reading;
    private int _disposed;

    private DriverClient(Socket socket, Func<IQueuedRequest, ValueTask> handler)
    {
        _socket = socket;
        _handler = handler;
        _sender = new FrameSender(socket);
    }

    /// <summary>Fires once when the channel ends without <see cref="DisposeAsync"/> (the driver stopped or died).</summary>
    public event Action<Exception?>? Disconnected;

    /// <summary>What the driver answered to the queue's opening.</summary>
    public OpenQueueReply Reply { get; private set; } = new();

    /// <summary>
    /// Connects to the driver at <paramref name="socketPath"/> and opens <paramref name="request"/>'s
    /// queue; each request the driver delivers goes to <paramref name="handler"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No driver listens there, or it refused the queue (the message says why).</exception>
    public static async Task<DriverClient> ConnectAsync(string socketPath, OpenQueueRequest request, Func<IQueuedRequest, ValueTask> handler,
        CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new InvalidOperationException(
                $"No HttpSysLite driver is listening at {socketPath} ({ex.SocketErrorCode}). Start one with `httpsyslite serve --socket {socketPath}`, " +
                "or leave DriverSocket unset to run the driver in this process.", ex);
        }
        var client = new DriverClient(socket, handler);
        client._reading = client.ReadAsync();
        try
        {
            await client._sender.SendAsync(FrameType.Hello, 0, ServiceChannel.ProtocolVersion, cancellationToken).ConfigureAwait(false);
            await client._sender.SendAsync(FrameType.OpenQueue, 0, JsonSerializer.SerializeToUtf8Bytes(request), cancellationToken).ConfigureAwait(false);
            var reply = await client._opened.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (reply.Error is not null)
            {
                throw new InvalidOperationException($"The driver at {socketPath} refused the request queue: {reply.Error}");
            }
            client.Reply = reply;
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Takes no new requests from now on (the first step of a graceful stop); those in flight go on.
    /// Completes once the driver has confirmed it: every request it delivered before has arrived.
    /// </summary>
    public async Task DetachAsync(CancellationToken cancellationToken = default)
    {
        await _sender.SendAsync(FrameType.Detach, 0, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await _detached.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Requests delivered and not finished.</summary>
    public int ActiveRequests => _active.Count;

    /// <summary>Completes when no delivered request is left unfinished (after <see cref="DetachAsync"/>, for a graceful stop).</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _draining, 1);
        return _active.IsEmpty ? Task.CompletedTask : _idleSignal.Task.WaitAsync(cancellationToken);
    }

    internal ValueTask SendAsync(FrameType type, uint stream, ReadOnlyMemory<byte> payload) => _sender.SendAsync(type, stream, payload);

    internal ValueTask SendFramesAsync(ReadOnlyMemory<byte> frames) => _sender.SendFramesAsync(frames);

    internal ValueTask SendAsync<TState>(FrameType type, uint stream, TState state, Action<System.Buffers.IBufferWriter<byte>, TState> write) =>
        _sender.SendAsync(type, stream, state, write);

    private async Task ReadAsync()
    {
        Exception? error = null;
        try
        {
            await FrameReader.RunAsync(PipeReader.Create(new NetworkStream(_socket, ownsSocket: false)), OnFrame).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or WireFormatException or JsonException or ObjectDisposedException)
        {
            error = ex;
        }
        _opened.TrySetException(new InvalidOperationException("The driver closed the channel before it answered.", error));
        _detached.TrySetResult(); // nothing more can arrive
        foreach (var request in _active.Values)
        {
            request.OnGone();
        }
        if (Volatile.Read(ref _disposed) == 0)
        {
            Disconnected?.Invoke(error);
        }
    }

    private void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Stream == 0)
        {
            if (header.Type == FrameType.Detached)
            {
                _detached.TrySetResult();
                return;
            }
            if (header.Type != FrameType.QueueOpened)
            {
                throw new WireFormatException($"A {header.Type} frame is not one the driver sends for a channel.");
            }
            _opened.TrySetResult(JsonSerializer.Deserialize<OpenQueueReply>(payload) ?? new OpenQueueReply { Error = "The driver's answer was empty." });
            return;
        }
        if (header.Type == FrameType.Request)
        {
            if (!_idle.TryTake(out var request))
            {
                request = new RemoteRequest(this);
            }
            request.Begin(header.Stream, payload);
            _active[header.Stream] = request;
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Client.RunAsync(state.Stream, state.Request), (Client: this, Stream: header.Stream, Request: request), preferLocal: false);
            return;
        }
        if (_active.TryGetValue(header.Stream, out var active))
        {
            active.OnFrame(header.Type, payload);
        }
    }

    private async Task RunAsync(uint stream, RemoteRequest request)
    {
        try
        {
            await _handler(request).ConfigureAwait(false);
        }
        finally
        {
            _active.TryRemove(stream, out _);
            _idle.Add(request);
            if (Volatile.Read(ref _draining) == 1 && _active.IsEmpty)
            {
                _idleSignal.TrySetResult();
            }
        }
    }

    /// <summary>Leaves the queue and closes the channel; requests still in flight end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            await _sender.SendAsync(FrameType.CloseQueue, 0, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
            await _sender.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The driver is gone already.
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        _socket.Dispose();
        if (_reading is not null)
        {
            await _reading.ConfigureAwait(false);
        }
    }
}
