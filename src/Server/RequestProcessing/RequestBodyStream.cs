using HttpSysLite.Transport.Http;
using Microsoft.AspNetCore.Http;

namespace HttpSysLite.RequestProcessing;

/// <summary>The request body as a read-only stream over the driver's streaming body reader.</summary>
internal sealed class RequestBodyStream : Stream
{
    private readonly HttpSysLiteContext _context;

    public RequestBodyStream(HttpSysLiteContext context) => _context = context;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _context.Request.ReadBodyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestRejectedException ex)
        {
            // The app and its middleware know ASP.NET Core's type; its status becomes the response's if nothing started.
            throw new BadHttpRequestException(ex.Message, ex.StatusCode, ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (!_context.AllowSynchronousIO)
        {
            throw new InvalidOperationException("Synchronous operations are disallowed. Call ReadAsync or set AllowSynchronousIO to true instead.");
        }
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int read = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The request body is read-only.");
}
