using HttpSysLite.Transport.Tls;

namespace HttpSysLite;

/// <summary>
/// An SSL certificate binding, HTTP.sys's three kinds as netsh names them: set exactly one of
/// <see cref="IpPort"/> ("0.0.0.0:443", "[::]:443", "10.1.2.3:443"), <see cref="HostnamePort"/>
/// ("www.example.com:443", chosen by SNI) or <see cref="CentralStorePort"/> (443, with a
/// <see cref="Directory"/> of host.pfx or host.pem/host.key files). The certificate file names are
/// Kestrel's. Bound from <c>HttpSysLite:SslCertificates</c>.
/// </summary>
public sealed class SslCertificateBinding
{
    /// <summary>A local address and port; 0.0.0.0 (IPv4) and [::] (IPv6) are the wildcards.</summary>
    public string? IpPort { get; set; }

    /// <summary>An SNI host name and port.</summary>
    public string? HostnamePort { get; set; }

    /// <summary>A port whose certificates come from <see cref="Directory"/>, by SNI host name.</summary>
    public int? CentralStorePort { get; set; }

    /// <summary>The certificate: a PEM file (key in it or in <see cref="KeyPath"/>) or a PFX file.</summary>
    public string? Path { get; set; }

    /// <summary>The PEM private key, when not in <see cref="Path"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the encrypted PEM key's.</summary>
    public string? Password { get; set; }

    /// <summary>For <see cref="CentralStorePort"/>: the directory of host.pfx, or host.pem with host.key, files.</summary>
    public string? Directory { get; set; }

    /// <summary>The driver's binding; throws <see cref="InvalidOperationException"/> naming what is wrong.</summary>
    internal CertificateBinding ToDriverBinding(string name) =>
        CertificateBinding.Create(name, IpPort, HostnamePort, CentralStorePort, Path, KeyPath, Password, Directory);
}
