using System.Net.Sockets;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// The socket as SslStream's inner stream. It differs from NetworkStream in one way: a peer that
/// resets the connection ends a read as a FIN does (0 bytes), and <see cref="WasReset"/> says so,
/// instead of a SocketException wrapped in an IOException. A client that resets after its last
/// response is an everyday end of a connection (measured: wrk's every closed TLS connection threw
/// about two exceptions, some 50 µs of CPU each connection). A read that can be cancelled (the
/// handshake's HeaderWait, a renegotiation's pause) uses .NET's cancellable receive, which consumes
/// nothing when cancelled.
/// </summary>
internal sealed class TlsSocketStream(Socket socket) : Stream
{
    private readonly Socket _socket = socket;
    private readonly SocketReceiver _receiver = new();

    /// <summary>True once a read ended because the peer reset the connection.</summary>
    public bool WasReset { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.CanBeCanceled)
        {
            return _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        var receive = _receiver.ReceiveAsync(_socket, buffer);
        return receive.IsCompletedSuccessfully ? new ValueTask<int>(Outcome(receive.Result)) : AwaitReceiveAsync(receive);
    }

    private async ValueTask<int> AwaitReceiveAsync(ValueTask<int> receive) => Outcome(await receive.ConfigureAwait(false));

    private int Outcome(int received)
    {
        if (received >= 0)
        {
            return received;
        }
        if (_receiver.Error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.OperationAborted)
        {
            WasReset = true;
            return 0;
        }
        throw new IOException($"The receive failed: {_receiver.Error}.", new SocketException((int)_receiver.Error));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => _socket.Receive(buffer, offset, count, SocketFlags.None);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int sent = await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[sent..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => _socket.Send(buffer, offset, count, SocketFlags.None);

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _receiver.Dispose();
        }
        base.Dispose(disposing);
    }
}
