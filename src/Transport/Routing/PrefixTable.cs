using System.Net;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// An immutable snapshot of every registered prefix, grouped by port and ordered by HTTP.sys
/// precedence: strong wildcard, host name, IP-bound, weak wildcard; within a bucket the longest path
/// first. Changes build a new snapshot and swap it in, so a lookup takes no lock and allocates nothing.
/// </summary>
public sealed class PrefixTable
{
    private readonly Dictionary<int, PrefixRegistration[]> _byPort;

    /// <summary>The empty table.</summary>
    public static PrefixTable Empty { get; } = new([]);

    private PrefixTable(Dictionary<int, PrefixRegistration[]> byPort) => _byPort = byPort;

    /// <summary>Every registration, in no particular order.</summary>
    public IEnumerable<PrefixRegistration> All => _byPort.Values.SelectMany(static r => r);

    /// <summary>Builds a snapshot from registrations.</summary>
    public static PrefixTable Create(IEnumerable<PrefixRegistration> registrations)
    {
        var byPort = registrations
            .GroupBy(static r => r.Prefix.Port)
            .ToDictionary(
                static g => g.Key,
                static g => g.OrderBy(static r => r.Prefix.HostKind).ThenByDescending(static r => r.Prefix.Path.Length).ToArray());
        return new PrefixTable(byPort);
    }

    /// <summary>True when some registration exists on <paramref name="port"/>.</summary>
    public bool HasPort(int port) => _byPort.ContainsKey(port);

    /// <summary>
    /// Finds the registration for a request: by the local port, the Host (without its port), the local
    /// address, and the canonical path. Null when nothing matches (HTTP.sys then answers 400).
    /// </summary>
    public PrefixRegistration? Find(int localPort, ReadOnlySpan<char> host, IPAddress localAddress, string path)
    {
        if (!_byPort.TryGetValue(localPort, out var registrations))
        {
            return null;
        }
        foreach (var registration in registrations)
        {
            var prefix = registration.Prefix;
            bool hostMatches = prefix.HostKind switch
            {
                UrlPrefixHostKind.HostName => host.Equals(prefix.Host, StringComparison.OrdinalIgnoreCase),
                UrlPrefixHostKind.IPAddress => prefix.Address!.Equals(localAddress),
                _ => true,
            };
            if (hostMatches && PathMatches(prefix.Path, path))
            {
                return registration;
            }
        }
        return null;
    }

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
}
