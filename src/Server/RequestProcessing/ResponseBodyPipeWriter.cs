using System.IO.Pipelines;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The response body as a PipeWriter: memory comes straight from the driver (the socket's output
/// buffer once a Content-Length response has started), so a write is one copy.
/// </summary>
internal sealed class ResponseBodyPipeWriter : PipeWriter
{
    private readonly HttpSysLiteContext _context;

    public ResponseBodyPipeWriter(HttpSysLiteContext context) => _context = context;

    public override Memory<byte> GetMemory(int sizeHint = 0) => _context.Request.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _context.Request.GetMemory(sizeHint).Span;

    public override void Advance(int bytes) => _context.Request.Advance(bytes);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (!_context.Request.HasStarted)
        {
            return StartAndFlushAsync(cancellationToken);
        }
        var flush = _context.Request.FlushAsync(cancellationToken);
        return flush.IsCompletedSuccessfully
            ? new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false))
            : AwaitFlushAsync(flush); // waiting on backpressure: await this flush, never start a second one
    }

    private async ValueTask<FlushResult> StartAndFlushAsync(CancellationToken cancellationToken)
    {
        await _context.EnsureStartedAsync().ConfigureAwait(false);
        return await AwaitFlushAsync(_context.Request.FlushAsync(cancellationToken)).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> AwaitFlushAsync(ValueTask flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
            return new FlushResult(isCanceled: false, isCompleted: false);
        }
        catch (ConnectionResetException) when (!_context.ThrowWriteExceptions)
        {
            // The client is gone: tell the writer it may stop, as a completed pipe does.
            return new FlushResult(isCanceled: false, isCompleted: true);
        }
    }

    public override void CancelPendingFlush()
    {
        // Flushes wait only for socket backpressure; the request's abort token ends those.
    }

    public override void Complete(Exception? exception = null)
    {
        if (exception is null)
        {
            _context.CompleteAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        if (exception is null)
        {
            await _context.CompleteAsync().ConfigureAwait(false);
        }
    }

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _context.Request.UnflushedBodyBytes;
}
