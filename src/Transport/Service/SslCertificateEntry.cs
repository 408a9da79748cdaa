using HttpSysLite.Transport.Tls;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// One certificate binding held by the shared driver (`httpsyslite sslcert add`), as its config file
/// keeps it: HTTP.sys's three kinds under Kestrel's names, the same as HttpSysLite:SslCertificates.
/// </summary>
public sealed record SslCertificateEntry
{
    /// <summary>An address and port: "0.0.0.0:443", "[::]:443", "10.1.2.3:443".</summary>
    public string? IpPort { get; init; }

    /// <summary>An SNI host name and port: "www.example.com:443".</summary>
    public string? HostnamePort { get; init; }

    /// <summary>A port served from a central store directory, by SNI name.</summary>
    public int? CentralStorePort { get; init; }

    /// <summary>The certificate (PEM or PFX).</summary>
    public string? Path { get; init; }

    /// <summary>The PEM private key, when not in <see cref="Path"/>.</summary>
    public string? KeyPath { get; init; }

    /// <summary>The PFX password, or the encrypted PEM key's.</summary>
    public string? Password { get; init; }

    /// <summary>For <see cref="CentralStorePort"/>: the store's directory.</summary>
    public string? Directory { get; init; }

    /// <summary>The driver's binding for this entry.</summary>
    public CertificateBinding ToBinding(string name) =>
        CertificateBinding.Create(name, IpPort, HostnamePort, CentralStorePort, Path, KeyPath, Password, Directory);

    /// <summary>
    /// Refuses a private key that other users could read: the shared driver holds the keys so that app
    /// processes never do (HTTP.sys keeps them in one trusted place), and a key readable by group or
    /// others is not kept. The key is the KeyPath, else the PFX, else the central store's directory.
    /// </summary>
    /// <exception cref="InvalidOperationException">The key file (or store directory) grants group or other access, or does not exist.</exception>
    public void CheckKeyIsPrivate(string name)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string? key = KeyPath ?? Path ?? Directory;
        if (key is null)
        {
            return; // the binding's own check names what is missing
        }
        if (!File.Exists(key) && !System.IO.Directory.Exists(key))
        {
            throw new InvalidOperationException($"{name}: {key} does not exist.");
        }
        var mode = File.GetUnixFileMode(key);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & others) != 0)
        {
            throw new InvalidOperationException(
                $"{name}: the private key {key} can be read by other users (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}), and the driver keeps keys to itself. " +
                $"Make it the driver's alone: chmod {(System.IO.Directory.Exists(key) ? "700" : "600")} {key}, owned by the driver's user.");
        }
    }

    /// <summary>The endpoint as the verbs spell it: ipport=..., hostnameport=... or ccs=....</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Endpoint => IpPort is not null ? $"ipport={IpPort}" : HostnamePort is not null ? $"hostnameport={HostnamePort}" : $"ccs={CentralStorePort}";
}
