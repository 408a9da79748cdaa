using System.Globalization;
using System.Net;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// One certificate binding, as data (it may cross the driver's seam): which endpoint, and where its
/// certificate is. The file names are Kestrel's (Path, KeyPath, Password), so users know them.
/// </summary>
public sealed record CertificateBinding
{
    /// <summary>Which kind of endpoint this binds.</summary>
    public required CertificateBindingKind Kind { get; init; }

    /// <summary>The port (every kind).</summary>
    public required int Port { get; init; }

    /// <summary>For <see cref="CertificateBindingKind.IpPort"/>: the local address; 0.0.0.0 or [::] for any.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>For <see cref="CertificateBindingKind.HostnamePort"/>: the SNI host name, compared case-insensitively.</summary>
    public string? Hostname { get; init; }

    /// <summary>The certificate file: PEM (with <see cref="KeyPath"/>, or the key in the same file) or PFX. Not for the central store.</summary>
    public string? Path { get; init; }

    /// <summary>The PEM private key file, when the key is not in <see cref="Path"/>.</summary>
    public string? KeyPath { get; init; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; init; }

    /// <summary>For <see cref="CertificateBindingKind.CentralStorePort"/>: the directory of <c>host.pfx</c>, or <c>host.pem</c> with <c>host.key</c>.</summary>
    public string? Directory { get; init; }

    /// <summary>The endpoint as netsh names it: "ipport=0.0.0.0:443", "hostnameport=www.example.com:443", "ccs=443".</summary>
    public string Endpoint => Kind switch
    {
        CertificateBindingKind.IpPort => "ipport=" + new IPEndPoint(Address ?? IPAddress.Any, Port),
        CertificateBindingKind.HostnamePort => $"hostnameport={Hostname}:{Port.ToString(CultureInfo.InvariantCulture)}",
        _ => "ccs=" + Port.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>True when two bindings claim the same endpoint (so the later replaces the earlier).</summary>
    public bool SameEndpoint(CertificateBinding other) => Kind == other.Kind && Port == other.Port && Kind switch
    {
        CertificateBindingKind.IpPort => (Address ?? IPAddress.Any).Equals(other.Address ?? IPAddress.Any),
        CertificateBindingKind.HostnamePort => string.Equals(Hostname, other.Hostname, StringComparison.OrdinalIgnoreCase),
        _ => true,
    };

    /// <inheritdoc />
    public override string ToString() => Endpoint;
}
