using System.Buffers.Binary;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The 12 bytes before every frame on a driver channel (docs/design.md section 10), little-endian:
/// payload length (u32), type (u8), flags (u8), reserved (u16, zero), stream (u32: the request's slot
/// on the channel; 0 for the channel itself).
/// </summary>
public readonly record struct FrameHeader(int Length, FrameType Type, byte Flags, uint Stream)
{
    /// <summary>The header's size on the wire.</summary>
    public const int Size = 12;

    /// <summary>
    /// The largest payload a channel takes: above the largest head the parser admits and a send window
    /// of body bytes, and small enough that a peer cannot make the other side buffer without bound.
    /// </summary>
    public const int MaxPayload = 1024 * 1024;

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, Length);
        destination[4] = (byte)Type;
        destination[5] = Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Stream);
    }

    /// <summary>
    /// Reads a header: Incomplete with fewer than <see cref="Size"/> bytes, Invalid when the length is
    /// out of range or the reserved bytes are set (the peer does not speak this protocol), else Done.
    /// </summary>
    public static ParseResult TryRead(ReadOnlySpan<byte> source, out FrameHeader header)
    {
        header = default;
        if (source.Length < Size)
        {
            return ParseResult.Incomplete;
        }
        int length = BinaryPrimitives.ReadInt32LittleEndian(source);
        if (length < 0 || length > MaxPayload || BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != 0)
        {
            return ParseResult.Invalid;
        }
        header = new FrameHeader(length, (FrameType)source[4], source[5], BinaryPrimitives.ReadUInt32LittleEndian(source[8..]));
        return ParseResult.Done;
    }
}
