using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// One certificate ready for handshakes: its certificate context (the chain, built once) and the
/// server options made from it, cached, since options built per handshake defeat session resumption
/// on Linux (OpenSSL keys its session cache on the context the options carry).
/// </summary>
public sealed class TlsServerContext
{
    /// <summary>TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1).</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private static readonly List<SslApplicationProtocol> s_alpn = [SslApplicationProtocol.Http11];

    private readonly SslServerAuthenticationOptions _withoutClientCertificate;
    private readonly SslServerAuthenticationOptions _askingClientCertificate;

    internal TlsServerContext(X509Certificate2 certificate, X509Certificate2Collection intermediates)
    {
        Certificate = certificate;
        // offline: the chain is built from what the files hold; a driver never fetches intermediates.
        CertificateContext = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
        _withoutClientCertificate = Create(CertificateContext, askClientCertificate: false);
        _askingClientCertificate = Create(CertificateContext, askClientCertificate: true);
    }

    /// <summary>The server certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate with its chain, for SslStream.</summary>
    public SslStreamCertificateContext CertificateContext { get; }

    /// <summary>The options for a handshake; with <paramref name="askClientCertificate"/>, the server asks for a client certificate (the client may send none).</summary>
    public SslServerAuthenticationOptions Options(bool askClientCertificate) =>
        askClientCertificate ? _askingClientCertificate : _withoutClientCertificate;

    private static SslServerAuthenticationOptions Create(SslStreamCertificateContext context, bool askClientCertificate) => new()
    {
        ServerCertificateContext = context,
        EnabledSslProtocols = Protocols,
        ApplicationProtocols = s_alpn,
        ClientCertificateRequired = askClientCertificate,
        // A client certificate is the app's to judge (ITlsConnectionFeature), as with HttpSys: the
        // handshake takes whatever the client presents, and no revocation fetch can stall it.
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        // No renegotiation: a client that starts one can make the server redo the expensive half of a
        // handshake for free (testssl's "secure client-initiated renegotiation: DoS threat").
        AllowRenegotiation = false,
        AllowTlsResume = true,
        // No CipherSuitesPolicy: on Linux one makes .NET build an OpenSSL context per handshake, and a
        // returning client then never resumes its session (measured: openssl s_client -reconnect, 0 of
        // 5 resumed with a policy, 5 of 5 without). The platform's defaults keep offering TLS 1.2's CBC
        // suites after the AEAD ones, as Kestrel's do.
    };
}
