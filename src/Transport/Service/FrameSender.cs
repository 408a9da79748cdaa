using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The sending half of a channel: whole frames, from any request's thread, into one buffer, and a
/// send loop that writes whatever has gathered with one call. Frames of different requests never
/// interleave (each is written whole under the gate), and under load the frames of many requests
/// leave in one send, as the connection's own send loop gathers pipelined responses. The gate is held
/// only to copy a frame in, never across a send.
/// </summary>
internal sealed class FrameSender
{
    // A channel holds at most this much unsent before writers wait for the socket: the credits bound
    // each request, and this bounds the channel.
    private const int PauseThreshold = 1024 * 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: PauseThreshold, resumeWriterThreshold: PauseThreshold / 2,
        readerScheduler: PipeScheduler.ThreadPool, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    private readonly Socket _socket;
    private readonly List<ArraySegment<byte>> _segments = new(4);

    // Where SendAsync<TState> lays a payload out; used under the gate only.
    private const int ScratchKeep = 16 * 1024;
    private ArrayBufferWriter<byte> _scratch = new(1024);

    public FrameSender(Socket socket)
    {
        _socket = socket;
        Sending = SendLoopAsync();
    }

    /// <summary>The send loop: ends when <see cref="CompleteAsync"/> was called and everything went out, or the socket failed.</summary>
    public Task Sending { get; }

    /// <summary>Sends one frame whose payload is <paramref name="payload"/>.</summary>
    public async ValueTask SendAsync(FrameType type, uint stream, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > FrameHeader.MaxPayload)
        {
            throw new InvalidOperationException($"A {type} frame of {payload.Length} bytes is over the channel's limit of {FrameHeader.MaxPayload}.");
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = _pipe.Writer;
            new FrameHeader(payload.Length, type, 0, stream).Write(writer.GetSpan(FrameHeader.Size));
            writer.Advance(FrameHeader.Size);
            writer.Write(payload.Span);
            Check(await writer.FlushAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Sends one frame whose payload <paramref name="write"/> lays out, into a buffer the channel reuses
    /// (under the gate), so a per-request message such as a request head costs no array of its own.
    /// </summary>
    public async ValueTask SendAsync<TState>(FrameType type, uint stream, TState state, Action<IBufferWriter<byte>, TState> write,
        CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _scratch.ResetWrittenCount();
            write(_scratch, state);
            if (_scratch.WrittenCount > FrameHeader.MaxPayload)
            {
                throw new InvalidOperationException($"A {type} frame of {_scratch.WrittenCount} bytes is over the channel's limit of {FrameHeader.MaxPayload}.");
            }
            var writer = _pipe.Writer;
            new FrameHeader(_scratch.WrittenCount, type, 0, stream).Write(writer.GetSpan(FrameHeader.Size));
            writer.Advance(FrameHeader.Size);
            writer.Write(_scratch.WrittenSpan);
            if (_scratch.Capacity > ScratchKeep)
            {
                _scratch = new ArrayBufferWriter<byte>(ScratchKeep); // one huge head does not pin its buffer for the channel's life
            }
            Check(await writer.FlushAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends frames already laid out whole (headers and payloads), together.</summary>
    public async ValueTask SendFramesAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _pipe.Writer.Write(frames.Span);
            Check(await _pipe.Writer.FlushAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends one frame whose payload is a u32 (a credit, a status).</summary>
    public async ValueTask SendAsync(FrameType type, uint stream, uint value, CancellationToken cancellationToken = default)
    {
        // Written straight into the buffer: a credit costs no array of its own.
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var span = _pipe.Writer.GetSpan(FrameHeader.Size + 4);
            new FrameHeader(4, type, 0, stream).Write(span);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(span[FrameHeader.Size..], value);
            _pipe.Writer.Advance(FrameHeader.Size + 4);
            Check(await _pipe.Writer.FlushAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Ends the channel's sending side once what was written has gone out.</summary>
    public async ValueTask CompleteAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        await Sending.ConfigureAwait(false);
    }

    private static void Check(FlushResult result)
    {
        if (result.IsCompleted)
        {
            throw new IOException("The channel is closed: the other process went away.");
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _pipe.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    if (buffer.IsSingleSegment)
                    {
                        await _socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
                    }
                    else
                    {
                        _segments.Clear();
                        foreach (var segment in buffer)
                        {
                            _segments.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array : new ArraySegment<byte>(segment.ToArray()));
                        }
                        await _socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
                    }
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            error = ex;
        }
        finally
        {
            // Writers waiting on a full buffer, and every later one, see the channel closed.
            await reader.CompleteAsync(error).ConfigureAwait(false);
        }
    }
}
