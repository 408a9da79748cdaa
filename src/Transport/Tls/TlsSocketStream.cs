using System.Net.Sockets;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// The socket as SslStream's inner stream on .NET's socket engine (where epoll is not available, or a
/// test chooses the engine); <see cref="TlsEpollStream"/> is the epoll loop's.
/// </summary>
/// <remarks>
/// An idle connection holds no buffer through this stream (issue 19: an idle TLS connection no
/// larger than Kestrel's). Its receives and sends go through its own event-args objects, which let
/// go of SslStream's buffers when they finish (<see cref="SocketReceiver"/>, <see cref="SocketSender"/>);
/// the socket's cached ones would keep the last of them reachable. A read that can be cancelled (the
/// handshake's HeaderWait, a renegotiation's pause) first waits in .NET's cancellable receive with
/// no buffer, which consumes nothing when cancelled, then reads what is there.
/// </remarks>
internal sealed class TlsSocketStream(Socket socket) : TlsNetworkStream
{
    private readonly Socket _socket = socket;
    private readonly SocketReceiver _receiver = new();
    private readonly SocketSender _sender = new();

    /// <inheritdoc />
    public override async ValueTask<int> PeekAsync(CancellationToken cancellationToken)
    {
        byte[] first = new byte[1];
        return await _socket.ReceiveAsync(first, SocketFlags.Peek, cancellationToken).ConfigureAwait(false) == 0 ? -1 : first[0];
    }

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
