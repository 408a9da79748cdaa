using System.Buffers;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The payload of a <see cref="FrameType.Request"/> frame: a delivered request's head, written by the
/// driver from its RequestContext and read by the app into a <see cref="RequestHead"/>. Layout: ids,
/// version, flags, Content-Length, the two endpoints, the five strings, then the header fields as
/// count and name/value pairs (Latin-1: the bytes as received, so the app decodes them exactly as
/// in-process).
/// </summary>
public static class RequestHeadMessage
{
    [Flags]
    private enum Flags : byte
    {
        None = 0,
        Https = 1,
        HasContentLength = 2,
        Chunked = 4,
        ExpectContinue = 8,
        Upgradable = 16,
        Cacheable = 32,
    }

    /// <summary>Writes <paramref name="request"/>'s head.</summary>
    public static void Write(IBufferWriter<byte> output, RequestContext request)
    {
        var writer = new WireWriter(output);
        writer.WriteUInt64(request.RequestId);
        writer.WriteUInt64(request.ConnectionId);
        writer.WriteByte((byte)request.Version);
        var flags = (request.IsHttps ? Flags.Https : 0)
            | (request.ContentLength.HasValue ? Flags.HasContentLength : 0)
            | (request.IsChunked ? Flags.Chunked : 0)
            | (request.ExpectContinue ? Flags.ExpectContinue : 0)
            | (request.IsUpgradableRequest ? Flags.Upgradable : 0)
            | (request.IsCacheableRequest ? Flags.Cacheable : 0);
        writer.WriteByte((byte)flags);
        writer.WriteInt64(request.ContentLength ?? 0);
        writer.WriteEndPoint(request.LocalEndPoint);
        writer.WriteEndPoint(request.RemoteEndPoint);
        writer.WriteLatin1(request.Method);
        writer.WriteLatin1(request.RawTarget);
        writer.WriteUtf8(request.PathBase);
        writer.WriteUtf8(request.Path);
        writer.WriteLatin1(request.QueryString);
        WriteFields(writer, request.Headers);
    }

    /// <summary>Header or trailer fields: the count, then each name and value byte for byte (Latin-1).</summary>
    public static void WriteFields(WireWriter writer, RequestHeaders fields)
    {
        writer.WriteUInt32((uint)fields.Count);
        for (int i = 0; i < fields.Count; i++)
        {
            writer.WriteLatin1(fields.NameAt(i));
            writer.WriteLatin1(fields.ValueAt(i));
        }
    }

    /// <summary>Reads what <see cref="WriteFields"/> wrote, appending to <paramref name="fields"/> (names interned as the parser interns them).</summary>
    public static void ReadFields(ref WireReader reader, RequestHeaders fields)
    {
        uint count = reader.ReadUInt32();
        for (uint i = 0; i < count; i++)
        {
            var name = reader.ReadBytes();
            fields.Add(name, reader.ReadBytes());
        }
    }

    /// <summary>Reads a head into <paramref name="head"/> (reused: its headers are cleared first).</summary>
    /// <exception cref="WireFormatException">The payload is not a whole head.</exception>
    public static void Read(ReadOnlySpan<byte> payload, RequestHead head)
    {
        var reader = new WireReader(payload);
        head.RequestId = reader.ReadUInt64();
        head.ConnectionId = reader.ReadUInt64();
        byte version = reader.ReadByte();
        if (version > (byte)HttpVersion.Http11)
        {
            throw new WireFormatException($"A request head names HTTP version {version}, which the driver does not speak.");
        }
        head.Version = (HttpVersion)version;
        var flags = (Flags)reader.ReadByte();
        long contentLength = reader.ReadInt64();
        head.IsHttps = (flags & Flags.Https) != 0;
        head.ContentLength = (flags & Flags.HasContentLength) != 0 ? contentLength : null;
        head.IsChunked = (flags & Flags.Chunked) != 0;
        head.ExpectContinue = (flags & Flags.ExpectContinue) != 0;
        head.IsUpgradableRequest = (flags & Flags.Upgradable) != 0;
        head.IsCacheableRequest = (flags & Flags.Cacheable) != 0;
        head.LocalEndPoint = reader.ReadEndPoint();
        head.RemoteEndPoint = reader.ReadEndPoint();
        head.Method = KnownMethods.GetString(reader.ReadBytes());
        head.RawTarget = System.Text.Encoding.Latin1.GetString(reader.ReadBytes());
        head.PathBase = reader.ReadUtf8();
        head.Path = reader.ReadUtf8();
        head.QueryString = System.Text.Encoding.Latin1.GetString(reader.ReadBytes());
        head.Headers.Clear();
        ReadFields(ref reader, head.Headers);
        if (!reader.IsEmpty)
        {
            throw new WireFormatException("A request head has bytes after its last header field.");
        }
    }
}
