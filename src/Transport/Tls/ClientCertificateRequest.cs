namespace HttpSysLite.Transport.Tls;

/// <summary>When a TLS port asks the client for a certificate (HttpSys's ClientCertificateMethod, in the driver's words).</summary>
public enum ClientCertificateRequest
{
    /// <summary>Never: the connection has whatever the client volunteers, which is nothing (NoCertificate).</summary>
    Never,

    /// <summary>In every handshake; the client may send none (AllowCertificate).</summary>
    InHandshake,

    /// <summary>
    /// When a request asks for one (AllowRenegotation): TLS 1.2 renegotiation or TLS 1.3 post-handshake
    /// authentication (RFC 8446 section 4.6.2), HTTP.sys's HttpReceiveClientCertificate.
    /// </summary>
    OnRequest,
}
