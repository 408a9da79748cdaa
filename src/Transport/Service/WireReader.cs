using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote, in the same order, from one frame's payload. A payload
/// that ends early or holds an impossible value throws <see cref="WireFormatException"/>: the frame
/// header said how long it is, so a short field is a broken peer, never a wait for more bytes.
/// </summary>
public ref struct WireReader(ReadOnlySpan<byte> payload)
{
    private ReadOnlySpan<byte> _rest = payload;

    /// <summary>True once every byte has been read.</summary>
    public readonly bool IsEmpty => _rest.IsEmpty;

    /// <summary>One byte.</summary>
    public byte ReadByte() => Take(1)[0];

    /// <summary>A u16.</summary>
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    /// <summary>A u32.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>A u64.</summary>
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>An i64.</summary>
    public long ReadInt64() => (long)ReadUInt64();

    /// <summary>A string's bytes (UTF-8 or Latin-1, as the field is defined), without decoding them.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        uint length = ReadUInt32();
        if (length > (uint)_rest.Length)
        {
            throw new WireFormatException($"A field says it holds {length} bytes, but only {_rest.Length} are left in the frame.");
        }
        return Take((int)length);
    }

    /// <summary>A UTF-8 string.</summary>
    public string ReadUtf8() => Encoding.UTF8.GetString(ReadBytes());

    /// <summary>An endpoint written by <see cref="WireWriter.WriteEndPoint"/>.</summary>
    public IPEndPoint ReadEndPoint()
    {
        int size = ReadByte() switch
        {
            4 => 4,
            6 => 16,
            var family => throw new WireFormatException($"An endpoint's family is {family}, neither 4 nor 6."),
        };
        var address = new IPAddress(Take(size));
        return new IPEndPoint(address, ReadUInt16());
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_rest.Length < count)
        {
            throw new WireFormatException($"The frame ends {count - _rest.Length} byte(s) before its last field.");
        }
        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }
}
