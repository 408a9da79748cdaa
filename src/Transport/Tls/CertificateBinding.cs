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

    /// <summary>
    /// A binding from its configuration spelling (Kestrel's and HTTP.sys's names): exactly one of
    /// <paramref name="ipPort"/> ("0.0.0.0:443", "[::]:443"), <paramref name="hostnamePort"/>
    /// ("www.example.com:443") or <paramref name="centralStorePort"/> (443). Messages start with
    /// <paramref name="name"/>, the entry's place in its configuration.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not exactly one kind, or an endpoint that does not parse.</exception>
    public static CertificateBinding Create(string name, string? ipPort, string? hostnamePort, int? centralStorePort,
        string? path, string? keyPath, string? password, string? directory)
    {
        int kinds = (ipPort is null ? 0 : 1) + (hostnamePort is null ? 0 : 1) + (centralStorePort is null ? 0 : 1);
        if (kinds != 1)
        {
            throw new InvalidOperationException($"{name} must set exactly one of IpPort, HostnamePort or CentralStorePort (HTTP.sys's ipport, hostnameport and ccs bindings).");
        }
        if (ipPort is not null)
        {
            if (!IPEndPoint.TryParse(ipPort, out var endPoint) || endPoint.Port == 0)
            {
                throw new InvalidOperationException($"{name}: IpPort '{ipPort}' is not an address and port, such as 0.0.0.0:443, [::]:443 or 10.1.2.3:443.");
            }
            return new CertificateBinding { Kind = CertificateBindingKind.IpPort, Address = endPoint.Address, Port = endPoint.Port, Path = path, KeyPath = keyPath, Password = password };
        }
        if (hostnamePort is not null)
        {
            int colon = hostnamePort.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(hostnamePort.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port)
                || port is < 1 or > 65535 || Uri.CheckHostName(hostnamePort[..colon]) != UriHostNameType.Dns)
            {
                throw new InvalidOperationException($"{name}: HostnamePort '{hostnamePort}' is not a host name and port, such as www.example.com:443.");
            }
            return new CertificateBinding { Kind = CertificateBindingKind.HostnamePort, Hostname = hostnamePort[..colon], Port = port, Path = path, KeyPath = keyPath, Password = password };
        }
        return new CertificateBinding { Kind = CertificateBindingKind.CentralStorePort, Port = centralStorePort!.Value, Directory = directory, Password = password };
    }
}
