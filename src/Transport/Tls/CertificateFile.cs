using System.Security.Cryptography.X509Certificates;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// A certificate loaded from files (PEM with its key, or PFX), checked when loaded, and loaded again
/// when a file changes on disk (a renewal): new handshakes get the new certificate, open connections
/// keep theirs. The files are looked at no more than once a second, on the handshake path.
/// </summary>
internal sealed class CertificateFile
{
    /// <summary>How often the files' timestamps are looked at.</summary>
    internal const long CheckIntervalMilliseconds = 1000;

    private readonly string _path;
    private readonly string? _keyPath;
    private readonly string? _password;
    private readonly string _describe;
    private readonly Action<string, Exception>? _reloadFailed;
    private readonly Lock _reloading = new();
    private volatile TlsServerContext _current;
    private (DateTime, long, DateTime) _stamp;
    private long _nextCheck;

    private CertificateFile(string path, string? keyPath, string? password, string describe, Action<string, Exception>? reloadFailed)
    {
        _path = path;
        _keyPath = keyPath;
        _password = password;
        _describe = describe;
        _reloadFailed = reloadFailed;
        _stamp = Stamp();
        _current = LoadContext(path, keyPath, password, describe);
    }

    /// <summary>
    /// Loads and checks the certificate of <paramref name="describe"/> (a binding's endpoint, for messages).
    /// Throws <see cref="InvalidOperationException"/> naming it when the file cannot be read, the key is
    /// missing or the certificate is outside its validity period.
    /// </summary>
    public static CertificateFile Load(string path, string? keyPath, string? password, string describe,
        Action<string, Exception>? reloadFailed = null) =>
        new(path, keyPath, password, describe, reloadFailed);

    /// <summary>The certificate for a new handshake at <paramref name="now"/> (milliseconds), reloaded first if a file changed.</summary>
    public TlsServerContext Current(long now)
    {
        if (now >= Volatile.Read(ref _nextCheck))
        {
            CheckForChange(now);
        }
        return _current;
    }

    private void CheckForChange(long now)
    {
        lock (_reloading)
        {
            if (now < _nextCheck)
            {
                return;
            }
            _nextCheck = now + CheckIntervalMilliseconds;
            var stamp = Stamp();
            if (stamp == _stamp)
            {
                return;
            }
            try
            {
                _current = LoadContext(_path, _keyPath, _password, _describe);
                _stamp = stamp;
            }
            catch (InvalidOperationException ex)
            {
                // A renewal half written, or a bad one: keep serving the certificate that works, try again
                // at the next check, and say so.
                _reloadFailed?.Invoke(_describe, ex);
            }
        }
    }

    private (DateTime, long, DateTime) Stamp()
    {
        try
        {
            var file = new FileInfo(_path);
            return (file.LastWriteTimeUtc, file.Exists ? file.Length : -1, _keyPath is null ? default : File.GetLastWriteTimeUtc(_keyPath));
        }
        catch (IOException)
        {
            return default;
        }
    }

    internal static TlsServerContext LoadContext(string path, string? keyPath, string? password, string describe)
    {
        X509Certificate2 certificate;
        var intermediates = new X509Certificate2Collection();
        try
        {
            string extension = Path.GetExtension(path);
            if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase))
            {
                var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password);
                certificate = FindLeaf(all) ?? throw new InvalidOperationException("the file holds no certificate with a private key.");
                foreach (var other in all)
                {
                    if (!ReferenceEquals(other, certificate))
                    {
                        intermediates.Add(other);
                    }
                }
            }
            else
            {
                if (keyPath is null && !File.ReadAllText(path).Contains("PRIVATE KEY", StringComparison.Ordinal))
                {
                    // A certificate alone: loaded so that the check below says what is missing.
                    certificate = X509CertificateLoader.LoadCertificateFromFile(path);
                }
                else
                {
                    certificate = password is null
                        ? X509Certificate2.CreateFromPemFile(path, keyPath)
                        : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
                }
                // A PEM file may carry the chain after the leaf: those go to the handshake too.
                var chain = new X509Certificate2Collection();
                chain.ImportFromPemFile(path);
                foreach (var other in chain)
                {
                    if (other.Thumbprint != certificate.Thumbprint)
                    {
                        intermediates.Add(other);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"The certificate of {describe} cannot be read from '{path}'{(keyPath is null ? "" : $" with the key '{keyPath}'")}: {ex.Message}", ex);
        }
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"The certificate of {describe} ('{path}') has no private key: give the key in the same PEM file, in KeyPath, or use a PFX that holds it.");
        }
        var now = DateTime.Now;
        if (certificate.NotAfter < now)
        {
            throw new InvalidOperationException($"The certificate of {describe} ('{path}', {certificate.Subject}) expired on {certificate.NotAfter:u}: renew it.");
        }
        if (certificate.NotBefore > now)
        {
            throw new InvalidOperationException($"The certificate of {describe} ('{path}', {certificate.Subject}) is not valid before {certificate.NotBefore:u}.");
        }
        return new TlsServerContext(certificate, intermediates);
    }

    private static X509Certificate2? FindLeaf(X509Certificate2Collection all)
    {
        foreach (var candidate in all)
        {
            if (candidate.HasPrivateKey)
            {
                return candidate;
            }
        }
        return null;
    }
}
