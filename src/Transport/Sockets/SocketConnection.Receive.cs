using System.Buffers;
using System.Net.Sockets;

namespace HttpSysLite.Transport.Sockets;

internal sealed partial class SocketConnection
{
    /// <summary>
    /// The receive loop. It waits with a zero-byte read before taking a buffer, so an idle keep-alive
    /// connection holds no buffer memory (the same trick Kestrel's socket transport uses).
    /// </summary>
    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                if (_receiveShutDown)
                {
                    break; // we ended the receive side ourselves: nothing more is read
                }

                var memory = writer.GetMemory(4096);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break; // FIN: the client has finished sending
                }
                writer.Advance(received);

                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    // The HTTP connection stopped reading (it is closing). Discard what still comes
                    // until the peer's FIN: closing with unread input would send RST, and an RST can
                    // destroy the response the client has not read yet (a "lingering close").
                    await DiscardUntilClosedAsync().ConfigureAwait(false);
                    break;
                }
            }
        }
        catch (Exception ex) when (SocketErrors.IsConnectionGone(ex))
        {
            error = new ConnectionResetException(ex);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
            SignalClosed();
        }
    }

    private async ValueTask DiscardUntilClosedAsync()
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (await _socket.ReceiveAsync(scratch, SocketFlags.None).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
