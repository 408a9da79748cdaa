using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// What a connection's TLS handshake settled, as data for the server's TLS features
/// (ITlsHandshakeFeature, ITlsConnectionFeature, the timing feature's TLS steps).
/// </summary>
public sealed class TlsConnectionInfo
{
    /// <summary>The negotiated protocol (TLS 1.2 or 1.3).</summary>
    public SslProtocols Protocol { get; init; }

    /// <summary>The negotiated cipher suite.</summary>
    public TlsCipherSuite CipherSuite { get; init; }

    /// <summary>The ALPN protocol both sides agreed on (http/1.1), or none.</summary>
    public SslApplicationProtocol ApplicationProtocol { get; init; }

    /// <summary>The SNI name the client sent, or "" when it sent none.</summary>
    public string HostName { get; init; } = string.Empty;

    /// <summary>The binding whose certificate served the handshake.</summary>
    public required CertificateBinding Binding { get; init; }

    /// <summary>Stopwatch timestamps: the ClientHello's first byte arrived; the handshake completed.</summary>
    public long HandshakeStart { get; init; }

    /// <inheritdoc cref="HandshakeStart"/>
    public long HandshakeEnd { get; init; }

    /// <summary>
    /// SslStream's older algorithm and strength readings (cipher, cipher bits, hash, hash bits, key exchange,
    /// key exchange bits), kept as numbers because their enum types are obsolete but ITlsHandshakeFeature
    /// still has them.
    /// </summary>
    public (int Cipher, int CipherStrength, int Hash, int HashStrength, int KeyExchange, int KeyExchangeStrength) Algorithms { get; init; }

    /// <summary>The ClientHello record as received, when the port caches them (HttpSysLiteOptions.CacheTlsClientHello); else null.</summary>
    public byte[]? ClientHello { get; init; }

    /// <summary>The client's certificate, when it sent one in the handshake or later on request.</summary>
    public X509Certificate2? ClientCertificate { get; internal set; }
}
