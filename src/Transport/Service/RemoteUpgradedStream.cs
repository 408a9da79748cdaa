namespace HttpSysLite.Transport.Service;

/// <summary>
/// An upgraded connection (after 101) as an app process holds it when the driver runs in another
/// process: reads are the client's bytes as the driver forwards them (end of stream at the client's
/// FIN), writes go to the client within the driver's grant. The request's own body and response calls
/// carry them, so the credits that bound a body bound these too.
/// </summary>
internal sealed class RemoteUpgradedStream : Stream
{
    private readonly RemoteRequest _request;

    public RemoteUpgradedStream(RemoteRequest request) => _request = request;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _request.ReadBodyAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _request.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => _request.FlushAsync(cancellationToken).AsTask();

    public override void Flush() => throw new NotSupportedException("Synchronous flushes are not supported on an upgraded connection.");
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use ReadAsync.");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use WriteAsync.");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
