using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The driver's end of one app process's channel (docs/design.md section 10). To its request queue it
/// is one more consumer: each request the queue hands it goes to the app as a Request frame, and a
/// <see cref="RemoteRequestPlayer"/> plays the app's answer on the request. The channel sees only the
/// requests of the queue it opened.
/// </summary>
internal sealed class ServiceChannel : IRequestQueueHandler
{
    /// <summary>The protocol this driver speaks (the Hello frame's payload).</summary>
    public const uint ProtocolVersion = 1;

    private readonly DriverService _service;
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly FrameSender _sender;
    private readonly ConcurrentDictionary<uint, RemoteRequestPlayer> _requests = new();
    private uint _lastStream;
    private int _closed;

    public ServiceChannel(DriverService service, Socket socket)
    {
        _service = service;
        _socket = socket;
        Peer = PeerCredentials.Of(socket);
        _network = new NetworkStream(socket, ownsSocket: true);
        _sender = new FrameSender(socket);
    }

    /// <summary>The app process, as the kernel identified it when it connected.</summary>
    public PeerCredentials? Peer { get; }

    /// <summary>The queue this channel opened, once it has.</summary>
    public RequestQueue? Queue { get; set; }

    /// <summary>Requests delivered to the app and not finished yet.</summary>
    public int ActiveRequests => _requests.Count;

    /// <summary>Reads the app's frames until it goes away, then ends what it left behind.</summary>
    public async Task RunAsync()
    {
        try
        {
            await FrameReader.RunAsync(PipeReader.Create(_network), OnFrame).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or WireFormatException or JsonException or ObjectDisposedException)
        {
            if (Volatile.Read(ref _closed) == 0)
            {
                _service.OnChannelError(this, ex); // not the driver's own stop
            }
        }
        finally
        {
            Close();
        }
    }

    /// <summary>Ends the channel: its queue membership, then each request it held.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        _service.Leave(this);
        foreach (var player in _requests.Values)
        {
            player.OnChannelClosed();
        }
        _socket.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask ProcessRequestAsync(RequestContext context)
    {
        uint stream = NextStream();
        var player = new RemoteRequestPlayer(this, context, stream);
        _requests[stream] = player;
        try
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                player.OnChannelClosed();
            }
            else
            {
                try
                {
                    await _sender.SendAsync(FrameType.Request, stream, context, static (output, request) => RequestHeadMessage.Write(output, request)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    player.OnChannelClosed(); // the app went away as its request arrived
                }
            }
            await player.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _requests.TryRemove(stream, out _);
        }
    }

    /// <summary>Sends a frame for a request; false when the channel is gone (the request is ended by <see cref="Close"/>).</summary>
    public async ValueTask<bool> SendAsync(FrameType type, uint stream, ReadOnlyMemory<byte> payload)
    {
        try
        {
            await _sender.SendAsync(type, stream, payload).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <inheritdoc cref="SendAsync(FrameType, uint, ReadOnlyMemory{byte})"/>
    public async ValueTask<bool> SendAsync(FrameType type, uint stream, uint value)
    {
        try
        {
            await _sender.SendAsync(type, stream, value).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Tells the host's log something about this channel's app (through the service).</summary>
    public void Report(string message) => _service.Report(message);

    /// <summary>Grants the app <paramref name="bytes"/> more response bytes.</summary>
    public ValueTask<bool> SendCreditAsync(uint stream, uint bytes) => SendAsync(FrameType.SendCredit, stream, bytes);

    /// <summary>Tells the app the request was aborted (the client went away, or the driver ended it).</summary>
    public async Task SendAbortedAsync(uint stream) => await SendAsync(FrameType.Aborted, stream, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);

    /// <summary>The answer to an app's ClientCertificate: a status byte, then the DER bytes or the failure's text.</summary>
    public async ValueTask<bool> SendCertificateAsync(uint stream, byte status, byte[] data)
    {
        try
        {
            await _sender.SendAsync(FrameType.Certificate, stream, (status, data), static (output, answer) =>
            {
                output.GetSpan(1)[0] = answer.status;
                output.Advance(1);
                output.Write(answer.data);
            }).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The body is whole: its trailer fields, as count and name/value pairs.</summary>
    public async ValueTask<bool> SendBodyEndAsync(uint stream, RequestHeaders trailers)
    {
        try
        {
            await _sender.SendAsync(FrameType.BodyEnd, stream, trailers, static (output, fields) => RequestHeadMessage.WriteFields(new WireWriter(output), fields)).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    private void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Stream != 0)
        {
            // A frame for a request that has ended already (an abort racing the end) has nobody to go to.
            if (_requests.TryGetValue(header.Stream, out var player))
            {
                player.OnFrame(header.Type, payload);
            }
            return;
        }
        switch (header.Type)
        {
            case FrameType.Hello:
                uint version = new WireReader(payload).ReadUInt32();
                if (version != ProtocolVersion)
                {
                    throw new WireFormatException($"The app speaks channel protocol {version}; this driver speaks {ProtocolVersion}. Run the same HttpSysLite version in both.");
                }
                break;
            case FrameType.OpenQueue:
                var request = JsonSerializer.Deserialize<OpenQueueRequest>(payload)
                    ?? throw new WireFormatException("An OpenQueue frame holds no request.");
                var reply = _service.OpenQueue(this, request);
                _ = SendAsync(FrameType.QueueOpened, 0, JsonSerializer.SerializeToUtf8Bytes(reply));
                break;
            case FrameType.Control:
                var verb = JsonSerializer.Deserialize<ControlRequest>(payload)
                    ?? throw new WireFormatException("A Control frame holds no verb.");
                _ = SendAsync(FrameType.ControlReply, 0, JsonSerializer.SerializeToUtf8Bytes(_service.Control(this, verb)));
                break;
            case FrameType.Detach:
                _service.Leave(this);
                // Sent after every Request frame the queue handed this channel: the app knows what is its.
                _ = SendAsync(FrameType.Detached, 0, ReadOnlyMemory<byte>.Empty);
                break;
            case FrameType.CloseQueue:
                Close();
                break;
            default:
                throw new WireFormatException($"A {header.Type} frame is not one an app sends for its channel.");
        }
    }

    private uint NextStream()
    {
        while (true)
        {
            uint stream = Interlocked.Increment(ref _lastStream);
            if (stream != 0 && !_requests.ContainsKey(stream))
            {
                return stream;
            }
        }
    }
}
