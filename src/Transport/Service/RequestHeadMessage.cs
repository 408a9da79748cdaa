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
        if (request.IsHttps && request.Tls is { } tls)
        {
            WriteTls(writer, tls);
        }
    }

    /// <summary>
    /// What the connection's handshake settled, after the fields of an https request: the app's TLS
    /// features read it as in-process. The certificate crosses as its DER bytes; the ClientHello and
    /// the driver's key material never do.
    /// </summary>
    private static void WriteTls(WireWriter writer, Tls.TlsConnectionInfo tls)
    {
        writer.WriteUInt32((uint)tls.Protocol);
        writer.WriteUInt32((uint)tls.CipherSuite);
        writer.WriteBytes(tls.ApplicationProtocol.Protocol.Span);
        writer.WriteUtf8(tls.HostName);
        writer.WriteInt64(tls.HandshakeStart);
        writer.WriteInt64(tls.HandshakeEnd);
        var algorithms = tls.Algorithms;
        writer.WriteUInt32((uint)algorithms.Cipher);
        writer.WriteUInt32((uint)algorithms.CipherStrength);
        writer.WriteUInt32((uint)algorithms.Hash);
        writer.WriteUInt32((uint)algorithms.HashStrength);
        writer.WriteUInt32((uint)algorithms.KeyExchange);
        writer.WriteUInt32((uint)algorithms.KeyExchangeStrength);
        writer.WriteBytes(tls.ClientCertificate is { } certificate ? certificate.RawDataMemory.Span : default);
    }

    private static Tls.TlsConnectionInfo ReadTls(ref WireReader reader, System.Net.IPEndPoint local, Tls.TlsConnectionInfo? previous)
    {
        var protocol = (System.Security.Authentication.SslProtocols)reader.ReadUInt32();
        var cipher = (System.Net.Security.TlsCipherSuite)reader.ReadUInt32();
        var alpn = reader.ReadBytes();
        string hostName = reader.ReadUtf8();
        long start = reader.ReadInt64();
        long end = reader.ReadInt64();
        var algorithms = ((int)reader.ReadUInt32(), (int)reader.ReadUInt32(), (int)reader.ReadUInt32(), (int)reader.ReadUInt32(), (int)reader.ReadUInt32(), (int)reader.ReadUInt32());
        var certificate = reader.ReadBytes();
        // The next request of the same connection has the same summary: the slot keeps it, so a
        // keep-alive client's requests build it (and parse its certificate) once.
        if (previous is not null && previous.HandshakeStart == start && previous.HandshakeEnd == end && previous.HostName == hostName
            && (previous.ClientCertificate?.RawDataMemory.Span.SequenceEqual(certificate) ?? certificate.IsEmpty))
        {
            return previous;
        }
        return new Tls.TlsConnectionInfo
        {
            Protocol = protocol,
            CipherSuite = cipher,
            ApplicationProtocol = alpn.IsEmpty ? default : new System.Net.Security.SslApplicationProtocol(alpn.ToArray()),
            HostName = hostName,
            // Which of the driver's bindings served the handshake stays in the driver; the app sees its port.
            Binding = new Tls.CertificateBinding { Kind = Tls.CertificateBindingKind.IpPort, Port = local.Port, Address = local.Address },
            HandshakeStart = start,
            HandshakeEnd = end,
            Algorithms = algorithms,
            ClientCertificate = certificate.IsEmpty ? null : System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate),
        };
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
        head.Tls = head.IsHttps ? ReadTls(ref reader, head.LocalEndPoint, head.Tls) : null;
        if (!reader.IsEmpty)
        {
            throw new WireFormatException("A request head has bytes after its last header field.");
        }
    }
}
