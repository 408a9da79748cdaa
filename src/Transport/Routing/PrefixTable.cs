using System.Net;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// An immutable snapshot of every registered prefix, indexed for lookup by HTTP.sys precedence:
/// per port, the strong wildcard, the host names (a dictionary), the IP addresses, then the weak
/// wildcard; within each, a dictionary of prefix paths probed from the request path's longest
/// segment boundary down. A lookup costs a few dictionary probes whatever the number of prefixes,
/// takes no lock and allocates nothing. Changes build a new snapshot and swap it in.
/// </summary>
public sealed class PrefixTable
{
    private readonly Dictionary<int, PortPrefixes> _byPort;

    /// <summary>The empty table.</summary>
    public static PrefixTable Empty { get; } = Create([]);

    private PrefixTable(Dictionary<int, PortPrefixes> byPort) => _byPort = byPort;

    /// <summary>Builds a snapshot from registrations.</summary>
    public static PrefixTable Create(IEnumerable<PrefixRegistration> registrations)
    {
        var byPort = new Dictionary<int, PortPrefixes>();
        foreach (var registration in registrations)
        {
            var prefix = registration.Prefix;
            if (!byPort.TryGetValue(prefix.Port, out var port))
            {
                byPort[prefix.Port] = port = new PortPrefixes();
            }
            port.Add(registration);
        }
        return new PrefixTable(byPort);
    }

    /// <summary>True when some registration exists on <paramref name="port"/>.</summary>
    public bool HasPort(int port) => _byPort.ContainsKey(port);

    /// <summary>
    /// Finds the registration for a request: by the local port, the Host (without its port), the local
    /// address, and the canonical path. The first bucket with a match wins, and within it the longest
    /// whole-segment path. Null when nothing matches (HTTP.sys then answers 400).
    /// </summary>
    public PrefixRegistration? Find(int localPort, ReadOnlySpan<char> host, IPAddress localAddress, string path)
    {
        if (!_byPort.TryGetValue(localPort, out var port))
        {
            return null;
        }
        return port.Find(host, localAddress, path);
    }

    /// <summary>
    /// Whether some prefix on <paramref name="localPort"/> takes requests for <paramref name="host"/> arriving on
    /// <paramref name="localAddress"/>, whatever their path: tells a request with an unknown Host (HTTP.sys's
    /// "Invalid Hostname") from one whose path no prefix holds.
    /// </summary>
    public bool MatchesHost(int localPort, ReadOnlySpan<char> host, IPAddress localAddress) =>
        _byPort.TryGetValue(localPort, out var port) && port.MatchesHost(host, localAddress);

    /// <summary>
    /// Whole-segment, case-insensitive prefix match: "/app/" matches "/app/x", "/app/" and "/app",
    /// never "/apple".
    /// </summary>
    public static bool PathMatches(string prefixPath, string path)
    {
        if (path.StartsWith(prefixPath, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return path.Length == prefixPath.Length - 1 && prefixPath.StartsWith(path, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The four buckets of one port.</summary>
    private sealed class PortPrefixes
    {
        private static readonly bool[] s_exactThenUnspecified = [false, true];

        private PathIndex? _strong;
        private Dictionary<string, PathIndex>? _hosts;
        private List<(IPAddress Address, PathIndex Paths)>? _addresses;
        private PathIndex? _weak;

        public void Add(PrefixRegistration registration)
        {
            var prefix = registration.Prefix;
            switch (prefix.HostKind)
            {
                case UrlPrefixHostKind.StrongWildcard:
                    (_strong ??= new PathIndex()).Add(registration);
                    break;
                case UrlPrefixHostKind.WeakWildcard:
                    (_weak ??= new PathIndex()).Add(registration);
                    break;
                case UrlPrefixHostKind.HostName:
                    // localhost also answers to the loopback literals a client may put in Host instead.
                    AddHost(prefix.Host, registration);
                    if (prefix.IsLocalhost)
                    {
                        AddHost("127.0.0.1", registration);
                        AddHost("[::1]", registration);
                    }
                    break;
                default:
                    _addresses ??= new();
                    int index = _addresses.FindIndex(a => a.Address.Equals(prefix.Address));
                    if (index < 0)
                    {
                        _addresses.Add((prefix.Address!, new PathIndex()));
                        index = _addresses.Count - 1;
                    }
                    _addresses[index].Paths.Add(registration);
                    break;
            }
        }

        private void AddHost(string host, PrefixRegistration registration)
        {
            _hosts ??= new Dictionary<string, PathIndex>(StringComparer.OrdinalIgnoreCase);
            if (!_hosts.TryGetValue(host, out var hostPaths))
            {
                _hosts[host] = hostPaths = new PathIndex();
            }
            hostPaths.Add(registration);
        }

        /// <summary>
        /// Whether an IP-bound prefix's address takes connections that arrived on <paramref name="localAddress"/>:
        /// its own address, or 0.0.0.0 (any IPv4 address) and [::] (any address), which match whatever the Host.
        /// </summary>
        private static bool Accepts(IPAddress prefixAddress, IPAddress localAddress, bool unspecified) => unspecified
            ? prefixAddress.Equals(IPAddress.IPv6Any) || (prefixAddress.Equals(IPAddress.Any) && localAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            : prefixAddress.Equals(localAddress);

        /// <summary>Whether any prefix of this port takes requests for <paramref name="host"/> on <paramref name="localAddress"/>, whatever the path.</summary>
        public bool MatchesHost(ReadOnlySpan<char> host, IPAddress localAddress)
        {
            if (_strong is not null || _weak is not null
                || (_hosts is not null && _hosts.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(host)))
            {
                return true;
            }
            if (_addresses is not null)
            {
                foreach (var (address, _) in _addresses)
                {
                    if (Accepts(address, localAddress, unspecified: false) || Accepts(address, localAddress, unspecified: true))
                    {
                        return true;
                    }
                }
            }
            return false;
        }

        public PrefixRegistration? Find(ReadOnlySpan<char> host, IPAddress localAddress, string path)
        {
            // 1. Strong wildcard: claims the request whatever the host.
            if (_strong?.Find(path) is { } strong)
            {
                return strong;
            }
            // 2. Host name, compared with the request's Host without its port.
            if (_hosts is not null && _hosts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(host, out var hostPaths)
                && hostPaths.Find(path) is { } named)
            {
                return named;
            }
            // 3. IP-bound: the local address the connection arrived on; then 0.0.0.0 and [::], which
            // Kestrel's users mean as "any address" (docs/design.md section 4).
            if (_addresses is not null)
            {
                foreach (bool unspecified in s_exactThenUnspecified)
                {
                    foreach (var (address, paths) in _addresses)
                    {
                        if (Accepts(address, localAddress, unspecified) && paths.Find(path) is { } bound)
                        {
                            return bound;
                        }
                    }
                }
            }
            // 4. Weak wildcard: what nothing else claimed.
            return _weak?.Find(path);
        }
    }

    /// <summary>Prefix paths of one bucket (and host), keyed case-insensitively by the path with its trailing slash.</summary>
    private sealed class PathIndex
    {
        private readonly Dictionary<string, PrefixRegistration> _byPath = new(StringComparer.OrdinalIgnoreCase);
        private int _longest;

        public void Add(PrefixRegistration registration)
        {
            string path = registration.Prefix.Path;
            _byPath[path] = registration;
            _longest = Math.Max(_longest, path.Length);
        }

        /// <summary>The longest registered prefix path that the request path starts with, on a segment boundary.</summary>
        public PrefixRegistration? Find(string path)
        {
            var lookup = _byPath.GetAlternateLookup<ReadOnlySpan<char>>();
            // "/app" matches the prefix "/app/": probe the whole path with a slash appended.
            if (path.Length > 0 && path[^1] != '/' && path.Length + 1 <= _longest)
            {
                Span<char> withSlash = stackalloc char[path.Length + 1];
                path.CopyTo(withSlash);
                withSlash[^1] = '/';
                if (lookup.TryGetValue(withSlash, out var exact))
                {
                    return exact;
                }
            }
            // Then every segment boundary, longest first; none longer than the longest prefix.
            for (int i = Math.Min(path.Length, _longest) - 1; i >= 0; i--)
            {
                if (path[i] == '/' && lookup.TryGetValue(path.AsSpan(0, i + 1), out var registration))
                {
                    return registration;
                }
            }
            return null;
        }
    }
}
