using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Sockets;

internal sealed partial class SocketConnection
{
    private readonly List<ArraySegment<byte>> _sendSegments = new(4);

    /// <summary>
    /// The send loop: everything written and flushed since the last send goes out in one syscall
    /// (a gather write when it spans segments), which is what makes pipelined responses cheap.
    /// </summary>
    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break; // aborted
                }
                if (!buffer.IsEmpty)
                {
                    await SendAsync(buffer).ConfigureAwait(false);
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
            // Everything is sent: a graceful FIN tells the client the response is whole.
            _socket.Shutdown(SocketShutdown.Send);
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
            await reader.CompleteAsync(error).ConfigureAwait(false);
            if (error is not null)
            {
                SignalClosed();
            }
        }
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            var memory = buffer.First;
            while (!memory.IsEmpty)
            {
                int sent = await _socket.SendAsync(memory, SocketFlags.None).ConfigureAwait(false);
                memory = memory[sent..];
            }
            return;
        }

        _sendSegments.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                throw new InvalidOperationException("Pipe memory is not array-backed.");
            }
            _sendSegments.Add(array);
        }
        // Socket.SendAsync(IList) sends the whole list before completing.
        await _socket.SendAsync(_sendSegments, SocketFlags.None).ConfigureAwait(false);
    }
}
