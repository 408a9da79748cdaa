using System.Buffers;
using System.IO.Pipelines;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The receiving half of a channel: reads whole frames and hands each to the channel's dispatcher in
/// order. A frame's payload is valid only during the call: the dispatcher copies what it keeps. The
/// dispatcher must not wait on a client or an app (that would stall every request on the channel);
/// what it starts goes on by itself.
/// </summary>
internal static class FrameReader
{
    /// <summary>Handles one frame.</summary>
    public delegate void FrameHandler(in FrameHeader header, ReadOnlySpan<byte> payload);

    /// <summary>Reads frames until the peer ends the channel; a malformed frame throws <see cref="WireFormatException"/>.</summary>
    public static async Task RunAsync(PipeReader input, FrameHandler onFrame, CancellationToken cancellationToken = default)
    {
        byte[]? joined = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (TryTakeFrame(ref buffer, out var header, out var payload))
                {
                    if (payload.IsSingleSegment)
                    {
                        onFrame(header, payload.FirstSpan);
                    }
                    else
                    {
                        // A frame across pipe segments: joined into one span (rare: heads and body
                        // chunks are smaller than a segment run).
                        if (joined is null || joined.Length < payload.Length)
                        {
                            if (joined is not null)
                            {
                                ArrayPool<byte>.Shared.Return(joined);
                            }
                            joined = ArrayPool<byte>.Shared.Rent((int)payload.Length);
                        }
                        payload.CopyTo(joined);
                        onFrame(header, joined.AsSpan(0, (int)payload.Length));
                    }
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw new WireFormatException($"The channel ended inside a frame ({buffer.Length} byte(s) of it arrived).");
                    }
                    return;
                }
            }
        }
        finally
        {
            if (joined is not null)
            {
                ArrayPool<byte>.Shared.Return(joined);
            }
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, out FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        header = default;
        payload = default;
        if (buffer.Length < FrameHeader.Size)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(bytes);
        if (FrameHeader.TryRead(bytes, out header) == ParseResult.Invalid)
        {
            throw new WireFormatException("A frame header has an impossible length or reserved bits set: the peer does not speak this protocol.");
        }
        if (buffer.Length < FrameHeader.Size + header.Length)
        {
            return false;
        }
        payload = buffer.Slice(FrameHeader.Size, header.Length);
        buffer = buffer.Slice(FrameHeader.Size + header.Length);
        return true;
    }
}
