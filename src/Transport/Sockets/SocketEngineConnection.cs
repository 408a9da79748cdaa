using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace HttpSysLite.Transport.Sockets;

/// <summary>
/// A socket served by .NET's socket engine (the portable path: every platform without epoll). The
/// receive loop waits with a zero-byte read, the connection loop resumes on the thread pool and the
/// send loop on a shared <see cref="IOQueue"/>, as Kestrel arranges them.
/// </summary>
internal sealed class SocketEngineConnection : SocketConnection
{
    public SocketEngineConnection(Socket socket, ConnectionSettings settings, MillisecondClock clock)
        : base(socket, settings, clock, inputReader: PipeScheduler.ThreadPool, inputWriter: PipeScheduler.Inline, outputReader: IOQueue.Next())
    {
    }

    protected override Task StartReceiving() => ReceiveLoopAsync();

    /// <summary>
    /// The receive loop. It waits with a zero-byte read before taking a buffer, so an idle keep-alive
    /// connection holds no buffer memory (the same trick Kestrel's socket transport uses). Receives report
    /// their errors as values (<see cref="SocketReceiver"/>): a client's reset ends the loop without an exception.
    /// </summary>
    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        var writer = InputWriter;
        using var receiver = new SocketReceiver();
        try
        {
            while (true)
            {
                int received = await receiver.ReceiveAsync(Socket, Memory<byte>.Empty).ConfigureAwait(false);
                if (received < 0 || ReceiveShutDown)
                {
                    break; // failed, or we ended the receive side ourselves: nothing more is read
                }

                var memory = writer.GetMemory(4096);
                received = await receiver.ReceiveAsync(Socket, memory).ConfigureAwait(false);
                if (received <= 0)
                {
                    break; // FIN: the client has finished sending (or the receive failed)
                }
                writer.Advance(received);

                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    // The HTTP connection stopped reading (it is closing). Discard what still comes
                    // until the peer's FIN: closing with unread input would send RST, and an RST can
                    // destroy the response the client has not read yet (a "lingering close").
                    await DiscardUntilClosedAsync(receiver).ConfigureAwait(false);
                    break;
                }
            }
            if (receiver.Error != SocketError.Success && !ReceiveShutDown)
            {
                var exception = new SocketException((int)receiver.Error);
                error = SocketErrors.IsConnectionReset(receiver.Error) ? new ConnectionResetException(exception) : exception;
            }
        }
        catch (ObjectDisposedException ex)
        {
            error = new ConnectionResetException(ex); // aborted between two receives
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            CompleteInput(error);
        }
    }

    private async ValueTask DiscardUntilClosedAsync(SocketReceiver receiver)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (await receiver.ReceiveAsync(Socket, scratch).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    protected override async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            var memory = buffer.First;
            while (!memory.IsEmpty)
            {
                var pending = Socket.SendAsync(memory, SocketFlags.None);
                int sent;
                if (pending.IsCompleted)
                {
                    sent = pending.GetAwaiter().GetResult();
                }
                else
                {
                    // The socket buffer is full: the client is not taking bytes as fast as we send them.
                    StartSendTimer(memory.Length);
                    sent = await pending.ConfigureAwait(false);
                    StopSendTimer();
                }
                memory = memory[sent..];
                OnSent(sent);
            }
            return;
        }

        // Socket.SendAsync(IList) sends the whole list before completing.
        var send = Socket.SendAsync(Gather(buffer), SocketFlags.None);
        if (!send.IsCompleted)
        {
            StartSendTimer(buffer.Length);
            await send.ConfigureAwait(false);
            StopSendTimer();
        }
        else
        {
            await send.ConfigureAwait(false);
        }
        OnSent(buffer.Length);
    }
}
