using System.IO.Pipelines;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The response body as a PipeWriter: memory comes straight from the driver (the socket's output
/// buffer once a Content-Length response has started), so a write is one copy. Completing it ends the
/// response; completing it with an exception is an app error (500 before the head, an abort after).
/// </summary>
internal sealed class ResponseBodyPipeWriter : PipeWriter
{
    private readonly HttpSysLiteContext _context;

    // CancelPendingFlush, which may come from any thread: the flag makes the flush that waits, or else
    // the next one, return IsCanceled; cancelling the source wakes a flush that waits (for the output's
    // bound or, unbuffered, for the client). Created with the first flush, replaced only once cancelled.
    private CancellationTokenSource? _cancelFlush;
    private int _cancelRequested;

    public ResponseBodyPipeWriter(HttpSysLiteContext context) => _context = context;

    /// <summary>Forgets a cancel the last request asked for and never saw.</summary>
    public void Reset()
    {
        Volatile.Write(ref _cancelRequested, 0);
        RenewCancellation();
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _context.Request.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _context.Request.GetMemory(sizeHint).Span;

    public override void Advance(int bytes) => _context.Request.Advance(bytes);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _cancelRequested) != 0 && Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            // PipeWriter: a cancel with no flush waiting cancels the next one. What was written stays
            // unflushed and goes with the next flush or the end of the response.
            RenewCancellation();
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: false));
        }
        var cancel = _cancelFlush ??= new CancellationTokenSource();
        if (!_context.Request.HasStarted || cancellationToken.CanBeCanceled)
        {
            return FlushSlowAsync(cancel, cancellationToken);
        }
        var flush = _context.Request.FlushAsync(cancel.Token);
        return flush.IsCompletedSuccessfully
            ? new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false))
            : AwaitFlushAsync(flush, cancel, default); // waiting on backpressure: await this flush, never start a second one
    }

    /// <summary>A flush that starts the response first, or that the app's own token may cancel as well.</summary>
    private async ValueTask<FlushResult> FlushSlowAsync(CancellationTokenSource cancel, CancellationToken cancellationToken)
    {
        // The app's token reaches the driver through our source: one token for the driver's waits, and no
        // linked source allocated per flush.
        using var bridge = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), cancel);
        await _context.EnsureStartedAsync().ConfigureAwait(false);
        return await AwaitFlushAsync(_context.Request.FlushAsync(cancel.Token), cancel, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> AwaitFlushAsync(ValueTask flush, CancellationTokenSource cancel, CancellationToken cancellationToken)
    {
        try
        {
            await flush.ConfigureAwait(false);
            return new FlushResult(isCanceled: false, isCompleted: false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            RenewCancellation();
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken); // the app's own token: PipeWriter throws for that
            }
            Volatile.Write(ref _cancelRequested, 0);
            return new FlushResult(isCanceled: true, isCompleted: false);
        }
        catch (ConnectionResetException) when (!_context.ThrowWriteExceptions)
        {
            // The client is gone: tell the writer it may stop, as a completed pipe does.
            return new FlushResult(isCanceled: false, isCompleted: true);
        }
    }

    public override void CancelPendingFlush()
    {
        Volatile.Write(ref _cancelRequested, 1);
        _cancelFlush?.Cancel();
    }

    /// <summary>A cancelled source cannot be reset; the old one is left to the GC (it holds no timer), so a racing cancel never meets a disposed one.</summary>
    private void RenewCancellation()
    {
        var cancel = _cancelFlush;
        if (cancel is not null && !cancel.TryReset())
        {
            _cancelFlush = new CancellationTokenSource();
        }
    }

    public override void Complete(Exception? exception = null) => CompleteAsync(exception).AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Ends the response. With an exception the writer failed, as an app that throws: before the head
    /// the server answers 500, after it the connection is aborted so a truncated body never looks whole
    /// (Kestrel does the same).
    /// </summary>
    public override ValueTask CompleteAsync(Exception? exception = null) =>
        exception is null ? _context.CompleteAsync() : _context.OnApplicationErrorAsync(exception);

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _context.Request.UnflushedBodyBytes;
}
