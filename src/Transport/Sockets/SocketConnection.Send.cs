using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Sockets;

internal sealed partial class SocketConnection
{
    private readonly List<ArraySegment<byte>> _sendSegments = new(4);
    private readonly long _minSendBytesPerSecond;
    private long _sendDeadline = long.MaxValue;

    /// <summary>
    /// True when a send has waited on the client past what MinSendBytesPerSecond allows for its size
    /// (at least the grace period). Read by the heartbeat; a send that completes at once arms nothing.
    /// </summary>
    public bool IsSendStalled(long now) => now >= Volatile.Read(ref _sendDeadline) || _progress.IsStalled(now);

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
                    await (_loop is null ? SendAsync(buffer) : SendNonBlockingAsync(buffer)).ConfigureAwait(false);
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
            // Everything is sent: a graceful FIN tells the client the response is whole. If the client has
            // finished too, one call ends both directions, and the receive loop with it.
            if (Volatile.Read(ref _peerFinished))
            {
                _receiveShutDown = true;
                _socket.Shutdown(SocketShutdown.Both);
            }
            else
            {
                _socket.Shutdown(SocketShutdown.Send);
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
            await reader.CompleteAsync(error).ConfigureAwait(false);
            if (error is not null)
            {
                SignalClosed();
            }
            // Nothing more reaches the socket: a write waiting for its bytes to go out never will.
            _progress.OnConnectionClosed();
        }
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            var memory = buffer.First;
            while (!memory.IsEmpty)
            {
                var pending = _socket.SendAsync(memory, SocketFlags.None);
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
                _progress.OnSent(sent);
            }
            return;
        }

        // Socket.SendAsync(IList) sends the whole list before completing.
        var send = _socket.SendAsync(Gather(buffer), SocketFlags.None);
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
        _progress.OnSent(buffer.Length);
    }

    /// <summary>The buffer's segments as one gather list (reused; the send loop's thread only).</summary>
    private List<ArraySegment<byte>> Gather(in ReadOnlySequence<byte> buffer)
    {
        _sendSegments.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                throw new InvalidOperationException("Pipe memory is not array-backed.");
            }
            _sendSegments.Add(array);
        }
        return _sendSegments;
    }

    /// <summary>
    /// Arms the MinSendBytesPerSecond deadline for a send of <paramref name="length"/> bytes: the time
    /// that rate allows for it, and never less than the grace period (HTTP.sys's MinSendRate timer).
    /// </summary>
    private void StartSendTimer(long length)
    {
        if (_minSendBytesPerSecond <= 0)
        {
            return;
        }
        long allowed = Math.Max((long)ConnectionSettings.SendGracePeriod.TotalMilliseconds, length * 1000 / _minSendBytesPerSecond);
        Volatile.Write(ref _sendDeadline, Environment.TickCount64 + allowed);
    }

    private void StopSendTimer() => Volatile.Write(ref _sendDeadline, long.MaxValue);
}
