using System.Globalization;
using System.Net;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// An HTTP.sys URL prefix string, <c>scheme://host:port/path/</c>, parsed and validated. The path always
/// ends with '/'; port 0 asks for an ephemeral port (for tests), reported once bound.
/// </summary>
public sealed class UrlPrefix
{
    private UrlPrefix(string scheme, string host, UrlPrefixHostKind kind, IPAddress? address, int port, string path)
    {
        Scheme = scheme;
        Host = host;
        HostKind = kind;
        Address = address;
        Port = port;
        Path = path;
        FullPrefix = $"{scheme}://{(address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ? "[" + host + "]" : host)}:{port.ToString(CultureInfo.InvariantCulture)}{path}";
    }

    /// <summary>"http" or "https".</summary>
    public string Scheme { get; }

    /// <summary>True for an https prefix: its port is a TLS port.</summary>
    public bool IsHttps => Scheme == "https";

    /// <summary>The host as written, lowercased; IPv6 literals without brackets.</summary>
    public string Host { get; }

    /// <summary>Which precedence bucket the host puts this prefix in.</summary>
    public UrlPrefixHostKind HostKind { get; }

    /// <summary>The address of an IP-literal prefix.</summary>
    public IPAddress? Address { get; }

    /// <summary>The port; 0 until an ephemeral port is bound.</summary>
    public int Port { get; }

    /// <summary>The path, starting and ending with '/'.</summary>
    public string Path { get; }

    /// <summary>The canonical prefix string.</summary>
    public string FullPrefix { get; }

    /// <summary>The host name that means this machine's loopback addresses (docs/design.md section 4).</summary>
    public const string Localhost = "localhost";

    /// <summary>True for a <c>localhost</c> prefix: it binds loopback only and matches a Host of localhost, 127.0.0.1 or [::1].</summary>
    public bool IsLocalhost => HostKind == UrlPrefixHostKind.HostName && Host == Localhost;

    /// <summary>
    /// True when the port needs the dual-mode wildcard socket: +, * and host names (HTTP.sys routes them
    /// by Host, whatever address the connection came to), and [::], which means any address as on Kestrel.
    /// <c>localhost</c> and the other IP literals bind their own addresses (<see cref="BindAddresses"/>).
    /// </summary>
    public bool NeedsWildcardBind => HostKind switch
    {
        UrlPrefixHostKind.IPAddress => Address!.Equals(IPAddress.IPv6Any),
        UrlPrefixHostKind.HostName => !IsLocalhost,
        _ => true,
    };

    /// <summary>What a prefix that needs no wildcard socket binds: its IP literal, or both loopback addresses for localhost.</summary>
    public IPAddress[] BindAddresses => IsLocalhost ? [IPAddress.Loopback, IPAddress.IPv6Loopback] : NeedsWildcardBind ? [] : [Address!];

    /// <summary>
    /// Splits a canonical path this prefix matched: PathBase = the prefix path without its trailing
    /// slash, in the request's casing ("" for a root prefix); Path = the rest.
    /// </summary>
    public void SplitPath(string canonicalPath, out string pathBase, out string path)
    {
        int baseLength = Path.Length - 1;
        if (baseLength == 0)
        {
            pathBase = string.Empty;
            path = canonicalPath;
        }
        else if (canonicalPath.Length > baseLength)
        {
            pathBase = canonicalPath[..baseLength];
            path = canonicalPath[baseLength..];
        }
        else
        {
            pathBase = canonicalPath;
            path = string.Empty;
        }
    }

    /// <summary>The same prefix on another port (used once an ephemeral port is known).</summary>
    public UrlPrefix WithPort(int port) => new(Scheme, Host, HostKind, Address, port, Path);

    /// <summary>Parses a prefix string or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static UrlPrefix Create(string prefix)
    {
        if (!TryCreate(prefix, out var result, out string? error))
        {
            throw new FormatException($"Invalid URL prefix '{prefix}': {error}");
        }
        return result;
    }

    /// <summary>Parses a prefix string; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryCreate(string? prefix, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out UrlPrefix? result, out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(prefix))
        {
            error = "the prefix is empty.";
            return false;
        }
        int schemeEnd = prefix.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            error = "expected scheme://host:port/path/, for example http://+:5000/.";
            return false;
        }
        string scheme = prefix[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            error = $"the scheme '{scheme}' is not http or https.";
            return false;
        }

        string rest = prefix[(schemeEnd + 3)..];
        int slash = rest.IndexOf('/');
        string authority = slash < 0 ? rest : rest[..slash];
        string path = slash < 0 ? "/" : rest[slash..];
        if (!path.EndsWith('/'))
        {
            path += "/"; // HTTP.sys prefixes always end with a slash
        }
        if (path.Contains('?') || path.Contains('#') || path.Contains('\\') || path.Contains("//", StringComparison.Ordinal))
        {
            error = "the path may not hold '?', '#', '\\' or an empty segment.";
            return false;
        }

        string host;
        string portText;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            if (close < 0 || close + 1 >= authority.Length || authority[close + 1] != ':')
            {
                error = "an IPv6 host must be bracketed and followed by :port, as in http://[::1]:5000/.";
                return false;
            }
            host = authority[1..close];
            portText = authority[(close + 2)..];
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            if (colon < 0)
            {
                error = "the port is missing; HTTP.sys prefixes need one, as in http://+:80/.";
                return false;
            }
            host = authority[..colon];
            portText = authority[(colon + 1)..];
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = $"the port '{portText}' is not a number from 1 to 65535 (or 0 for an ephemeral port).";
            return false;
        }
        if (host.Length == 0)
        {
            error = "the host is missing; use +, *, a host name or an IP address.";
            return false;
        }

        host = host.ToLowerInvariant();
        UrlPrefixHostKind kind;
        IPAddress? address = null;
        if (host == "+")
        {
            kind = UrlPrefixHostKind.StrongWildcard;
        }
        else if (host == "*")
        {
            kind = UrlPrefixHostKind.WeakWildcard;
        }
        else if (IPAddress.TryParse(host, out address) && (authority.StartsWith('[') || !host.Contains(':')))
        {
            kind = UrlPrefixHostKind.IPAddress;
            host = address.ToString();
        }
        else if (Uri.CheckHostName(host) == UriHostNameType.Dns)
        {
            address = null;
            kind = UrlPrefixHostKind.HostName;
        }
        else
        {
            error = $"the host '{host}' is not +, *, a host name or an IP address.";
            return false;
        }

        result = new UrlPrefix(scheme, host, kind, address, port, path);
        error = null;
        return true;
    }

    /// <summary>True when both name the same URL namespace: port, host kind, host and path, case-insensitively (HTTP.sys compares prefixes so).</summary>
    public bool IsSameAs(UrlPrefix other) =>
        Port == other.Port && HostKind == other.HostKind
        && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Path, other.Path, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override string ToString() => FullPrefix;
}
