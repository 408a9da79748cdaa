using System.Collections.Concurrent;

namespace HttpSysLite.Transport.Tls;

/// <summary>
/// HTTP.sys's central certificate store for one port: a directory of <c>host.pfx</c> files, or
/// <c>host.pem</c> with <c>host.key</c>, found by the SNI name of each handshake. A file is loaded on
/// the first handshake that names its host and reloaded when it changes; a host with no file is looked
/// for again at most once a second.
/// </summary>
internal sealed class CentralCertificateStore
{
    private readonly string _directory;
    private readonly string? _password;
    private readonly string _describe;
    private readonly Action<string, Exception>? _loadFailed;
    private readonly ConcurrentDictionary<string, Entry> _hosts = new(StringComparer.OrdinalIgnoreCase);

    public CentralCertificateStore(string directory, string? password, string describe, Action<string, Exception>? loadFailed)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new InvalidOperationException($"The central certificate store of {describe} names the directory '{directory}', which does not exist.");
        }
        _directory = directory;
        _password = password;
        _describe = describe;
        _loadFailed = loadFailed;
    }

    /// <summary>The certificate for <paramref name="hostName"/> at <paramref name="now"/> (milliseconds), or null when the store has none.</summary>
    public TlsServerContext? Find(string hostName, long now)
    {
        if (!IsFileName(hostName))
        {
            return null; // never a path: an SNI name is the client's to choose
        }
        if (_hosts.TryGetValue(hostName, out var entry) && (entry.File is not null || now < entry.RetryAt))
        {
            return entry.File?.Current(now);
        }
        var file = TryLoad(hostName);
        // Bounded by what the directory holds plus one negative entry per name tried in the last second.
        if (file is null && _hosts.Count > 10_000)
        {
            _hosts.Clear();
        }
        _hosts[hostName] = new Entry(file, now + CertificateFile.CheckIntervalMilliseconds);
        return file?.Current(now);
    }

    private CertificateFile? TryLoad(string hostName)
    {
        string pfx = Path.Combine(_directory, hostName + ".pfx");
        string pem = Path.Combine(_directory, hostName + ".pem");
        string key = Path.Combine(_directory, hostName + ".key");
        string describe = $"{_describe} for '{hostName}'";
        try
        {
            if (File.Exists(pfx))
            {
                return CertificateFile.Load(pfx, null, _password, describe, _loadFailed);
            }
            if (File.Exists(pem))
            {
                return CertificateFile.Load(pem, File.Exists(key) ? key : null, _password, describe, _loadFailed);
            }
        }
        catch (InvalidOperationException ex)
        {
            _loadFailed?.Invoke(describe, ex);
        }
        return null;
    }

    /// <summary>A DNS name as a file name: letters, digits, '-', '.' and '_', not starting with '.'.</summary>
    private static bool IsFileName(string hostName)
    {
        if (hostName.Length is 0 or > 253 || hostName[0] == '.')
        {
            return false;
        }
        foreach (char c in hostName)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return false;
            }
        }
        return true;
    }

    private sealed record Entry(CertificateFile? File, long RetryAt);
}
