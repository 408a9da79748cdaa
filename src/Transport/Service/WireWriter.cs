using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// Writes a frame payload's fields into a buffer writer, little-endian: integers at their width,
/// strings as a u32 byte count then the bytes (UTF-8, or Latin-1 for header fields, which are kept
/// byte for byte as received).
/// </summary>
public readonly ref struct WireWriter(IBufferWriter<byte> output)
{
    private readonly IBufferWriter<byte> _output = output;

    /// <summary>One byte.</summary>
    public void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }

    /// <summary>A u16.</summary>
    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_output.GetSpan(2), value);
        _output.Advance(2);
    }

    /// <summary>A u32.</summary>
    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_output.GetSpan(4), value);
        _output.Advance(4);
    }

    /// <summary>A u64.</summary>
    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_output.GetSpan(8), value);
        _output.Advance(8);
    }

    /// <summary>An i64.</summary>
    public void WriteInt64(long value) => WriteUInt64((ulong)value);

    /// <summary>A string as UTF-8.</summary>
    public void WriteUtf8(string value) => WriteEncoded(value, Encoding.UTF8);

    /// <summary>Bytes as they are: a u32 count, then the bytes (what <see cref="WireReader.ReadBytes"/> reads).</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteUInt32((uint)value.Length);
        _output.Write(value);
    }

    /// <summary>A string whose chars are bytes (a header field as received).</summary>
    public void WriteLatin1(string value) => WriteEncoded(value, Encoding.Latin1);

    /// <summary>An endpoint: family (4 or 6), the address bytes, the port (u16).</summary>
    public void WriteEndPoint(IPEndPoint endPoint)
    {
        bool v6 = endPoint.AddressFamily == AddressFamily.InterNetworkV6;
        WriteByte(v6 ? (byte)6 : (byte)4);
        int size = v6 ? 16 : 4;
        var span = _output.GetSpan(size);
        if (!endPoint.Address.TryWriteBytes(span, out int written) || written != size)
        {
            throw new WireFormatException($"The address {endPoint.Address} did not fit its family's size.");
        }
        _output.Advance(size);
        WriteUInt16((ushort)endPoint.Port);
    }

    private void WriteEncoded(string value, Encoding encoding)
    {
        int length = encoding.GetByteCount(value);
        WriteUInt32((uint)length);
        int written = encoding.GetBytes(value, _output.GetSpan(length));
        _output.Advance(written);
    }
}
