using System.Buffers;
using System.IO.Pipelines;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The sending half of a channel: whole frames, one at a time, from any request's thread. A frame is
/// written header then payload under one gate, so frames of different requests never interleave; each
/// send flushes, so a frame is on its way when the call returns.
/// </summary>
internal sealed class FrameSender(PipeWriter output)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly PipeWriter _output = output;

    /// <summary>Sends one frame whose payload is <paramref name="payload"/>.</summary>
    public async ValueTask SendAsync(FrameType type, uint stream, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Write(type, 0, stream, payload.Span);
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends one frame whose payload is a u32 (a credit, a status).</summary>
    public ValueTask SendAsync(FrameType type, uint stream, uint value, CancellationToken cancellationToken = default)
    {
        var payload = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(payload, value);
        return SendAsync(type, stream, payload, cancellationToken);
    }

    /// <summary>Ends the channel's sending side (the peer reads the end after the last frame).</summary>
    public async ValueTask CompleteAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Write(FrameType type, byte flags, uint stream, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > FrameHeader.MaxPayload)
        {
            throw new InvalidOperationException($"A {type} frame of {payload.Length} bytes is over the channel's limit of {FrameHeader.MaxPayload}.");
        }
        var header = _output.GetSpan(FrameHeader.Size);
        new FrameHeader(payload.Length, type, flags, stream).Write(header);
        _output.Advance(FrameHeader.Size);
        _output.Write(payload);
    }
}
