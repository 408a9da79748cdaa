using System.Buffers;
using System.Text;
using HttpSysLite.Transport.Output;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// Response header or trailer fields on the wire: the lines ResponseHeaderWriter writes
/// ("name: value" and CRLF, each field checked as it is written, RFC 9110 section 5.5), counted by a
/// u32, and read back into name/value pairs. The writer is the one place that validates a field, so
/// the app's side gets the same exception for a bad field as in-process.
/// </summary>
public static class HeaderBlock
{
    /// <summary>
    /// Writes <paramref name="source"/>'s headers (or trailers) through <paramref name="writer"/>, using
    /// <paramref name="scratch"/> (cleared here) to learn the block's length before it.
    /// </summary>
    /// <exception cref="InvalidOperationException">A field is invalid.</exception>
    public static void Write(IBufferWriter<byte> output, ResponseHeaderWriter writer, ArrayBufferWriter<byte> scratch, IResponseHeaderSource source, bool trailers)
    {
        scratch.ResetWrittenCount();
        writer.Reset(scratch);
        if (trailers)
        {
            source.WriteTrailers(writer);
        }
        else
        {
            source.WriteHeaders(writer);
        }
        var wire = new WireWriter(output);
        wire.WriteUInt32((uint)scratch.WrittenCount);
        output.Write(scratch.WrittenSpan);
    }

    /// <summary>Reads a block into <paramref name="fields"/> (appended).</summary>
    /// <exception cref="WireFormatException">A line is not "name: value" and CRLF.</exception>
    public static void Read(ref WireReader reader, List<KeyValuePair<string, string>> fields)
    {
        var block = reader.ReadBytes();
        while (!block.IsEmpty)
        {
            int end = block.IndexOf("\r\n"u8);
            int colon = block.IndexOf(": "u8);
            if (end < 0 || colon <= 0 || colon > end)
            {
                throw new WireFormatException("A header block holds a line that is not \"name: value\".");
            }
            fields.Add(new(Encoding.ASCII.GetString(block[..colon]), Encoding.ASCII.GetString(block[(colon + 2)..end])));
            block = block[(end + 2)..];
        }
    }
}
