using System.Buffers;
using HttpSysLite.Transport.Caching;
using HttpSysLite.Transport.Output;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The payload of a <see cref="FrameType.ResponseHead"/> frame, as HttpSendHttpResponse takes a
/// response: status, flags, Content-Length, reason, the cache policy, then the header block
/// (<see cref="HeaderBlock"/>). Written by the app's side, read by the driver into a
/// <see cref="ReceivedResponseHead"/>.
/// </summary>
public static class ResponseHeadMessage
{
    [Flags]
    private enum Flags : byte
    {
        None = 0,
        HasReason = 1,
        HasContentLength = 2,
        HasTrailers = 4,
        BufferData = 8,
        HasCachePolicy = 16,
    }

    /// <summary>Writes a response head; the header fields are checked as they are written.</summary>
    /// <exception cref="InvalidOperationException">A header field is invalid.</exception>
    public static void Write(IBufferWriter<byte> output, ResponseHeaderWriter writer, ArrayBufferWriter<byte> scratch,
        int statusCode, string? reasonPhrase, bool bufferResponseData, CachePolicy? cachePolicy, IResponseHeaderSource source)
    {
        var wire = new WireWriter(output);
        wire.WriteUInt16((ushort)statusCode);
        var flags = (reasonPhrase is not null ? Flags.HasReason : 0)
            | (source.ContentLength.HasValue ? Flags.HasContentLength : 0)
            | (source.HasTrailers ? Flags.HasTrailers : 0)
            | (bufferResponseData ? Flags.BufferData : 0)
            | (cachePolicy is not null ? Flags.HasCachePolicy : 0);
        wire.WriteByte((byte)flags);
        wire.WriteInt64(source.ContentLength ?? 0);
        if (reasonPhrase is not null)
        {
            wire.WriteUtf8(reasonPhrase);
        }
        if (cachePolicy is not null)
        {
            wire.WriteInt64(cachePolicy.TimeToLive.Ticks);
            WriteOptional(wire, cachePolicy.ETag);
            wire.WriteInt64(cachePolicy.LastModified?.UtcTicks ?? -1);
            WriteOptional(wire, cachePolicy.CacheControl);
            WriteOptional(wire, cachePolicy.Expires);
            wire.WriteInt64(cachePolicy.Age?.Ticks ?? -1);
        }
        HeaderBlock.Write(output, writer, scratch, source, trailers: false);
    }

    /// <summary>Reads a response head into <paramref name="head"/> (reset first).</summary>
    /// <exception cref="WireFormatException">The payload is not a whole head.</exception>
    public static void Read(ReadOnlySpan<byte> payload, ReceivedResponseHead head)
    {
        head.Reset();
        var reader = new WireReader(payload);
        head.StatusCode = reader.ReadUInt16();
        var flags = (Flags)reader.ReadByte();
        long contentLength = reader.ReadInt64();
        head.ContentLength = (flags & Flags.HasContentLength) != 0 ? contentLength : null;
        head.HasTrailers = (flags & Flags.HasTrailers) != 0;
        head.BufferResponseData = (flags & Flags.BufferData) != 0;
        if ((flags & Flags.HasReason) != 0)
        {
            head.ReasonPhrase = reader.ReadUtf8();
        }
        if ((flags & Flags.HasCachePolicy) != 0)
        {
            var ttl = TimeSpan.FromTicks(reader.ReadInt64());
            string? etag = ReadOptional(ref reader);
            long modified = reader.ReadInt64();
            string? cacheControl = ReadOptional(ref reader);
            string? expires = ReadOptional(ref reader);
            long age = reader.ReadInt64();
            head.CachePolicy = new CachePolicy(ttl, etag, modified < 0 ? null : new DateTimeOffset(modified, TimeSpan.Zero), cacheControl, expires,
                age < 0 ? null : TimeSpan.FromTicks(age));
        }
        HeaderBlock.Read(ref reader, head.HeaderList);
        if (!reader.IsEmpty)
        {
            throw new WireFormatException("A response head has bytes after its header block.");
        }
    }

    // A string or its absence: a flag byte, then the string when present.
    private static void WriteOptional(WireWriter wire, string? value)
    {
        wire.WriteByte(value is null ? (byte)0 : (byte)1);
        if (value is not null)
        {
            wire.WriteUtf8(value);
        }
    }

    private static string? ReadOptional(ref WireReader reader) => reader.ReadByte() == 0 ? null : reader.ReadUtf8();
}
