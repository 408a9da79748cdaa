namespace HttpSysLite.Transport.Tls;

/// <summary>The certificate a handshake gets, and the binding that chose it (for traces and logs).</summary>
public readonly record struct CertificateSelection(TlsServerContext Context, CertificateBinding Binding);
