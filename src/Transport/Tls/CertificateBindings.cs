using System.Net;
using System.Net.Sockets;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// The driver's SSL certificate bindings (HTTP.sys's netsh http sslcert table): added, replaced and
/// removed at run time, each change checked (files readable, a private key, within validity) before
/// it takes effect. A handshake reads an immutable snapshot, with no lock. Precedence, for a handshake
/// on a port: the SNI name's <c>hostnameport</c> binding, then the port's central store (by SNI name),
/// then the exact <c>ipport</c> of the connection's local address, then the wildcard <c>ipport</c>
/// (0.0.0.0 or [::], the connection's own family first).
/// </summary>
public sealed class CertificateBindings
{
    private readonly Lock _sync = new();
    private readonly MillisecondClock _clock;
    private volatile Snapshot _snapshot = new([]);

    internal CertificateBindings(MillisecondClock clock) => _clock = clock;

    /// <summary>Called when a certificate that changed on disk (or a central-store file) cannot be loaded: the endpoint and why.</summary>
    public event Action<string, Exception>? LoadFailed;

    /// <summary>The bindings in force.</summary>
    public IReadOnlyList<CertificateBinding> All
    {
        get
        {
            var entries = _snapshot.Entries;
            var list = new List<CertificateBinding>(entries.Length);
            foreach (var entry in entries)
            {
                list.Add(entry.Binding);
            }
            return list;
        }
    }

    /// <summary>True when some binding names <paramref name="port"/>.</summary>
    public bool HasPort(int port)
    {
        foreach (var entry in _snapshot.Entries)
        {
            if (entry.Binding.Port == port)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Adds <paramref name="binding"/>, or replaces the binding of the same endpoint: new handshakes use it,
    /// open connections keep their certificate. Throws <see cref="InvalidOperationException"/> naming the
    /// endpoint when the binding is incomplete or its certificate cannot serve.
    /// </summary>
    public void Set(CertificateBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var entry = Load(binding);
        lock (_sync)
        {
            var entries = new List<Entry>(_snapshot.Entries.Length + 1);
            foreach (var existing in _snapshot.Entries)
            {
                if (!existing.Binding.SameEndpoint(binding))
                {
                    entries.Add(existing);
                }
            }
            entries.Add(entry);
            _snapshot = new Snapshot([.. entries]);
        }
    }

    /// <summary>Removes the binding of <paramref name="binding"/>'s endpoint; false when there was none.</summary>
    public bool Remove(CertificateBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        lock (_sync)
        {
            var entries = new List<Entry>(_snapshot.Entries.Length);
            foreach (var existing in _snapshot.Entries)
            {
                if (!existing.Binding.SameEndpoint(binding))
                {
                    entries.Add(existing);
                }
            }
            if (entries.Count == _snapshot.Entries.Length)
            {
                return false;
            }
            _snapshot = new Snapshot([.. entries]);
            return true;
        }
    }

    /// <summary>
    /// True when a handshake on <paramref name="port"/> may get a certificate by its SNI name (a
    /// hostnameport or central-store binding names the port); false when the local address alone
    /// decides, so the certificate can be chosen before the ClientHello is read.
    /// </summary>
    public bool SelectsByServerName(int port)
    {
        foreach (var entry in _snapshot.Entries)
        {
            if (entry.Binding.Port == port && entry.Binding.Kind != CertificateBindingKind.IpPort)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The certificate for a handshake on <paramref name="port"/> of <paramref name="localAddress"/> naming <paramref name="serverName"/> (SNI; null or empty when none), or null.</summary>
    public CertificateSelection? Select(int port, IPAddress localAddress, string? serverName)
    {
        long now = _clock.Now;
        var entries = _snapshot.Entries;
        if (!string.IsNullOrEmpty(serverName))
        {
            foreach (var entry in entries)
            {
                var b = entry.Binding;
                if (b.Kind == CertificateBindingKind.HostnamePort && b.Port == port && string.Equals(b.Hostname, serverName, StringComparison.OrdinalIgnoreCase))
                {
                    return new CertificateSelection(entry.File!.Current(now), b);
                }
            }
            foreach (var entry in entries)
            {
                if (entry.Binding.Kind == CertificateBindingKind.CentralStorePort && entry.Binding.Port == port
                    && entry.Store!.Find(serverName, now) is { } fromStore)
                {
                    return new CertificateSelection(fromStore, entry.Binding);
                }
            }
        }
        var sameFamilyAny = localAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        var otherFamilyAny = localAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.Any : IPAddress.IPv6Any;
        foreach (var wanted in (ReadOnlySpan<IPAddress>)[localAddress, sameFamilyAny, otherFamilyAny])
        {
            foreach (var entry in entries)
            {
                var b = entry.Binding;
                if (b.Kind == CertificateBindingKind.IpPort && b.Port == port && wanted.Equals(b.Address))
                {
                    return new CertificateSelection(entry.File!.Current(now), b);
                }
            }
        }
        return null;
    }

    private Entry Load(CertificateBinding binding)
    {
        string endpoint = binding.Endpoint;
        if (binding.Port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"The certificate binding {endpoint} needs a port from 1 to 65535.");
        }
        Action<string, Exception> failed = (what, ex) => LoadFailed?.Invoke(what, ex);
        switch (binding.Kind)
        {
            case CertificateBindingKind.CentralStorePort:
                if (string.IsNullOrEmpty(binding.Directory))
                {
                    throw new InvalidOperationException($"The certificate binding {endpoint} needs a Directory of host.pfx, or host.pem with host.key, files.");
                }
                return new Entry(binding, null, new CentralCertificateStore(binding.Directory, binding.Password, endpoint, failed));
            case CertificateBindingKind.HostnamePort when string.IsNullOrWhiteSpace(binding.Hostname):
                throw new InvalidOperationException($"The certificate binding {endpoint} needs a Hostname.");
            case CertificateBindingKind.IpPort when binding.Address is null:
                throw new InvalidOperationException($"The certificate binding {endpoint} needs an address (0.0.0.0 or [::] for any).");
        }
        if (string.IsNullOrEmpty(binding.Path))
        {
            throw new InvalidOperationException($"The certificate binding {endpoint} needs a Path: a PEM file (with KeyPath) or a PFX file.");
        }
        return new Entry(binding, CertificateFile.Load(binding.Path, binding.KeyPath, binding.Password, endpoint, failed), null);
    }

    private sealed record Entry(CertificateBinding Binding, CertificateFile? File, CentralCertificateStore? Store);

    private sealed record Snapshot(Entry[] Entries);
}
