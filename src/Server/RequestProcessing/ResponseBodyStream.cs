using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The response body as a write-only stream. Each write starts the response if needed and flushes,
/// as Kestrel's stream does. Writes to a gone client complete silently unless ThrowWriteExceptions.
/// </summary>
internal sealed class ResponseBodyStream : Stream
{
    private readonly HttpSysLiteContext _context;

    public ResponseBodyStream(HttpSysLiteContext context) => _context = context;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await _context.EnsureStartedAsync().ConfigureAwait(false);
            await _context.Request.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (ConnectionResetException) when (!_context.ThrowWriteExceptions)
        {
            // The client is gone; RequestAborted has fired. Let the app finish without an exception.
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _context.EnsureStartedAsync().ConfigureAwait(false);
            await _context.Request.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ConnectionResetException) when (!_context.ThrowWriteExceptions)
        {
            // As for writes.
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ThrowIfSynchronousIODisallowed();
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    public override void Flush()
    {
        ThrowIfSynchronousIODisallowed();
        FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    private void ThrowIfSynchronousIODisallowed()
    {
        if (!_context.AllowSynchronousIO)
        {
            throw new InvalidOperationException("Synchronous operations are disallowed. Call WriteAsync or set AllowSynchronousIO to true instead.");
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The response body is write-only.");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
