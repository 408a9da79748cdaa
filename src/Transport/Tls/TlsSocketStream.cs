using System.Net.Sockets;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// The socket as SslStream's inner stream. It differs from NetworkStream in one way: a peer that
/// resets the connection ends a read as a FIN does (0 bytes), and <see cref="WasReset"/> says so,
/// instead of a SocketException wrapped in an IOException. A client that resets after its last
/// response is an everyday end of a connection (measured: wrk's every closed TLS connection threw
/// about two exceptions, some 50 µs of CPU each connection).
/// </summary>
/// <remarks>
/// An idle connection holds no buffer through this stream (issue 19: an idle TLS connection no
/// larger than Kestrel's). Its receives and sends go through its own event-args objects, which let
/// go of SslStream's buffers when they finish (<see cref="SocketReceiver"/>, <see cref="SocketSender"/>);
/// the socket's cached ones would keep the last of them reachable. A read that can be cancelled (the
/// handshake's HeaderWait, a renegotiation's pause) first waits in .NET's cancellable receive with
/// no buffer, which consumes nothing when cancelled, then reads what is there.
/// </remarks>
internal sealed class TlsSocketStream(Socket socket) : Stream
{
    private readonly Socket _socket = socket;
    private readonly SocketReceiver _receiver = new();
    private readonly SocketSender _sender = new();

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
            return ReadCancellableAsync(buffer, cancellationToken);
        }
        var receive = _receiver.ReceiveAsync(_socket, buffer);
        return receive.IsCompletedSuccessfully ? new ValueTask<int>(Outcome(receive.Result)) : AwaitReceiveAsync(receive);
    }

    private async ValueTask<int> ReadCancellableAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // The wait is the part that can last, so it is the part that can be cancelled: a zero-byte
        // receive hands the socket's cached event args no buffer to keep. A wake-up for bytes already
        // taken (see SocketReceiver) waits again.
        do
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        while (!_socket.Poll(0, SelectMode.SelectRead));
        return buffer.IsEmpty ? 0 : Outcome(await _receiver.ReceiveAsync(_socket, buffer).ConfigureAwait(false));
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
        cancellationToken.ThrowIfCancellationRequested();
        while (!buffer.IsEmpty)
        {
            var send = _sender.SendAsync(_socket, buffer);
            int sent;
            if (send.IsCompleted || !cancellationToken.CanBeCanceled)
            {
                sent = await send.ConfigureAwait(false);
            }
            else
            {
                // A send waits only while the client takes no bytes. Cancelled (the handshake's
                // HeaderWait, a renegotiation given up), the connection is abandoned: shutting the
                // socket down ends the send, as the cancellable send would have.
                using (cancellationToken.UnsafeRegister(static socket => ShutDown((Socket)socket!), _socket))
                {
                    sent = await send.ConfigureAwait(false);
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
            if (sent < 0)
            {
                throw new SocketException((int)_sender.Error);
            }
            buffer = buffer[sent..];
        }
    }

    private static void ShutDown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // Closed already: the send has ended.
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
            _sender.Dispose();
        }
        base.Dispose(disposing);
    }
}
