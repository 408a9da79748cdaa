namespace HttpSysLite.Transport.Tls;

/// <summary>HTTP.sys's three kinds of SSL certificate binding (netsh http add sslcert ...).</summary>
public enum CertificateBindingKind
{
    /// <summary><c>ipport=</c>: a local address and port; 0.0.0.0 and [::] are the wildcards.</summary>
    IpPort,

    /// <summary><c>hostnameport=</c>: an SNI host name and port.</summary>
    HostnamePort,

    /// <summary><c>ccs=</c>: a port whose certificates come from a directory, by SNI host name (the central certificate store).</summary>
    CentralStorePort,
}
