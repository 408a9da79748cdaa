namespace HttpSysLite.Transport.Tls;

/// <summary>
/// The socket under SslStream, as a TLS connection needs it from either socket engine: a peer that
/// resets ends a read as a FIN does (0 bytes, with <see cref="WasReset"/> set), not as a
/// SocketException wrapped in an IOException, since a client that resets after its last response is
/// an everyday end of a connection (measured: wrk's every closed TLS connection threw about two
/// exceptions, some 50 µs of CPU each); and the first byte can be looked at before the handshake
/// consumes it.
/// </summary>
internal abstract class TlsNetworkStream : Stream
{
    /// <summary>True once a read ended because the peer reset the connection.</summary>
    public bool WasReset { get; protected set; }

    /// <summary>The first byte the client sent, left unread; -1 when it closed without sending one.</summary>
    public abstract ValueTask<int> PeekAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The handshake is over: a read's continuation may run where the socket's readiness was seen (the
    /// epoll loop), as a plain connection's head is parsed there. False while a handshake runs, as
    /// its crypto must not hold up the loop's other connections.
    /// </summary>
    public virtual bool ContinueOnLoop { get; set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // SslStream is only ever driven asynchronously here; the synchronous calls wait on the same paths.
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
