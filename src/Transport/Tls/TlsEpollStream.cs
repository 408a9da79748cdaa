using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HttpSysLite.Transport.Buffers;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// The socket as SslStream's inner stream on an epoll loop (Linux), so a TLS connection waits as a
/// plain epoll connection does: in the loop's epoll_wait, with no .NET socket-engine state and no
/// thread of the engine's between the event and the decrypt.
/// </summary>
/// <remarks>
/// <para>
/// Measured against .NET's engine (<see cref="TlsSocketStream"/>) on https keep-alive: the engine
/// costs each request a receive that only says EAGAIN (its zero-byte wait tries the socket first), a
/// poll(2) (its zero-byte wait also completes on stale readiness, see <see cref="SocketReceiver"/>),
/// and a hand-off from the engine's thread to the thread pool before SslStream sees the bytes. Here a
/// request costs one recv(2): readiness is this stream's own edge-triggered flag, and after the
/// handshake the decrypt and the head's parsing run in the loop event that announced the bytes.
/// </para>
/// <para>
/// An idle connection holds no buffer here: SslStream's zero-byte read (it waits for a record before it
/// rents its own buffer) waits on the flag with nothing rented, and when the socket is readable the
/// bytes are read into one pooled block, kept until SslStream has copied them out. A stale event
/// costs a recv that says EAGAIN, with the block given back at once.
/// </para>
/// </remarks>
internal sealed class TlsEpollStream : TlsNetworkStream, IEpollRegistration
{
    private readonly Socket _socket;
    private readonly EpollLoop _loop;
    private readonly ReadinessWaiter _readWaiter = new(continueOnLoop: false);
    private ReadinessWaiter? _writeWaiter;
    private IMemoryOwner<byte>? _block; // bytes read ahead for a zero-byte read or a peek: [_start, _end)
    private int _start;
    private int _end;
    private int _readable = 1; // set by the loop's events; cleared before each attempt (an edge is never lost)
    private int _writable = 1;
    private bool _finished; // the peer's FIN was read
    private volatile bool _peerClosed; // the loop saw RDHUP, HUP or ERR: the end waits behind the data
    private volatile bool _detached;

    /// <summary>True while a read-ahead block is held (tests: a drained, silent connection holds none).</summary>
    internal bool HoldsReadAhead => Volatile.Read(ref _block) is not null;

    public TlsEpollStream(Socket socket, EpollLoop loop)
    {
        _socket = socket;
        _loop = loop;
    }

    public int EpollSlot { get; set; } = -1;

    public uint EpollToken { get; set; }

    /// <inheritdoc />
    public override bool ContinueOnLoop
    {
        get => _readWaiter.ContinueOnLoop;
        set => _readWaiter.ContinueOnLoop = value;
    }

    /// <summary>Makes the socket non-blocking and starts watching it.</summary>
    /// <exception cref="SocketException">The socket is gone already.</exception>
    public void Start()
    {
        NonBlockingSocket.SetNonBlocking(_socket);
        _loop.Register(this, (int)_socket.Handle, EpollInterop.EPOLLIN | EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLOUT | EpollInterop.EPOLLET);
    }

    /// <summary>
    /// The socket was closed (an abort, or the connection's end): it left epoll with its descriptor, so
    /// no event will end a wait; the waits end now, and reads end as a reset.
    /// </summary>
    public void Detach()
    {
        _detached = true;
        _loop.Unregister(this);
        _readWaiter.Release();
        _writeWaiter?.Release();
    }

    void IEpollRegistration.OnEpollEvent(uint events)
    {
        if ((events & (EpollInterop.EPOLLIN | EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLHUP | EpollInterop.EPOLLERR)) != 0)
        {
            if ((events & (EpollInterop.EPOLLRDHUP | EpollInterop.EPOLLHUP | EpollInterop.EPOLLERR)) != 0)
            {
                // The FIN (or error) arrived with the data's edge, and no edge will follow it: a short
                // read no longer means drained, as only a read past the data sees the end.
                _peerClosed = true;
            }
            Volatile.Write(ref _readable, 1);
            _readWaiter.Release();
        }
        if ((events & (EpollInterop.EPOLLOUT | EpollInterop.EPOLLHUP | EpollInterop.EPOLLERR)) != 0)
        {
            Volatile.Write(ref _writable, 1);
            Volatile.Read(ref _writeWaiter)?.Release();
        }
    }

    void IEpollRegistration.OnEpollEventFailed(Exception exception) => Detach();

    /// <inheritdoc />
    public override async ValueTask<int> PeekAsync(CancellationToken cancellationToken)
    {
        if (await ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false) == 0 && _end > _start)
        {
            return _block!.Memory.Span[_start];
        }
        return -1;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = TryRead(buffer);
        return read >= 0 ? new ValueTask<int>(read) : WaitAndReadAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WaitAndReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _readWaiter.WaitAsync(ref _readable, cancellationToken).ConfigureAwait(false);
            int read = TryRead(buffer);
            if (read >= 0)
            {
                return read;
            }
        }
    }

    /// <summary>
    /// One attempt: the bytes given (0 for a zero-byte read that found the socket readable, or at the
    /// end), or -1 when the socket has nothing yet. A zero-byte read that finds it readable reads
    /// ahead into a pooled block, so that the wait, not the read, is what can be cancelled.
    /// </summary>
    private int TryRead(Memory<byte> buffer)
    {
        if (_end > _start)
        {
            int take = Math.Min(buffer.Length, _end - _start);
            _block!.Memory.Span.Slice(_start, take).CopyTo(buffer.Span);
            _start += take;
            if (_start == _end)
            {
                ReturnBlock();
            }
            return take;
        }
        if (_finished || WasReset)
        {
            return 0;
        }
        if (_detached)
        {
            WasReset = true;
            return 0;
        }
        if (buffer.IsEmpty && Volatile.Read(ref _readable) == 0)
        {
            return -1; // nothing announced since the last attempt drained the socket
        }
        Volatile.Write(ref _readable, 0);
        var block = buffer.IsEmpty ? BlockMemoryPool.Default.Rent() : null;
        var into = block is null ? buffer.Span : block.Memory.Span;
        int received;
        SocketError error;
        try
        {
            received = NonBlockingSocket.Receive(_socket, into, out error);
        }
        catch (ObjectDisposedException)
        {
            received = -1;
            error = SocketError.OperationAborted; // closed under the read: an abort
        }
        if (received > 0)
        {
            if (received == into.Length || _peerClosed)
            {
                // A full read: more may be there, and no edge would say so. After RDHUP: the end is.
                Volatile.Write(ref _readable, 1);
            }
            if (block is null)
            {
                return received;
            }
            _block = block;
            _start = 0;
            _end = received;
            return 0;
        }
        block?.Dispose();
        if (received == 0)
        {
            _finished = true;
            return 0;
        }
        if (error == SocketError.WouldBlock)
        {
            return -1;
        }
        if (error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.OperationAborted)
        {
            WasReset = true;
            return 0;
        }
        throw new IOException($"The receive failed: {error}.", new SocketException((int)error));
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return TryWrite(ref buffer) ? default : WaitAndWriteAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitAndWriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        // The client is not taking bytes as fast as they come. A cancelled wait (the handshake's
        // HeaderWait) abandons the connection; there is no operation of the system's to undo.
        var waiter = _writeWaiter;
        if (waiter is null)
        {
            Volatile.Write(ref _writeWaiter, waiter = new ReadinessWaiter(continueOnLoop: false));
        }
        do
        {
            await waiter.WaitAsync(ref _writable, cancellationToken).ConfigureAwait(false);
        }
        while (!TryWrite(ref buffer));
    }

    /// <summary>Sends what the socket takes now; true when <paramref name="buffer"/> is all sent.</summary>
    private bool TryWrite(ref ReadOnlyMemory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_detached)
            {
                throw new IOException("The connection was closed.", new SocketException((int)SocketError.OperationAborted));
            }
            Volatile.Write(ref _writable, 0);
            int sent = NonBlockingSocket.Send(_socket, buffer.Span, out var error);
            if (error == SocketError.WouldBlock)
            {
                return false;
            }
            if (error != SocketError.Success)
            {
                throw new IOException($"The send failed: {error}.", new SocketException((int)error));
            }
            buffer = buffer[sent..];
        }
        return true;
    }

    private void ReturnBlock()
    {
        var block = _block;
        _block = null;
        _start = _end = 0;
        block?.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Detach();
            ReturnBlock();
        }
        base.Dispose(disposing);
    }
}
