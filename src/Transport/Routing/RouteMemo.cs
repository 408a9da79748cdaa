using System.Net;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// The last routing decision a request context carried: a request with the same Host and path strings
/// (the parser reuses a context's strings while clients repeat them), on the same local endpoint and
/// prefix table, routes the same way, so it is routed by a few comparisons instead of table probes.
/// Lives in the pooled context, not the connection, so an idle connection holds none of it; keyed by
/// the local endpoint too, since a context serves connections of any port in turn.
/// </summary>
internal struct RouteMemo
{
    private PrefixTable? _table;
    private string? _host;
    private string? _path;
    private IPAddress? _localAddress;
    private int _localPort;

    /// <summary>The prefix that won.</summary>
    public PrefixRegistration? Registration { get; private set; }

    /// <summary>The matched prefix path, as the request spelled it.</summary>
    public string PathBase { get; private set; }

    /// <summary>The rest of the canonical path.</summary>
    public string SubPath { get; private set; }

    /// <summary>True when the remembered decision holds for this request (reference comparisons, and the endpoint's).</summary>
    public readonly bool Matches(PrefixTable table, string host, string path, IPEndPoint local) =>
        ReferenceEquals(table, _table) && ReferenceEquals(host, _host) && ReferenceEquals(path, _path)
        && local.Port == _localPort && local.Address.Equals(_localAddress);

    /// <summary>Remembers a decision the table made.</summary>
    public void Remember(PrefixTable table, string host, string path, IPEndPoint local, PrefixRegistration registration, string pathBase, string subPath)
    {
        _table = table;
        _host = host;
        _path = path;
        _localAddress = local.Address;
        _localPort = local.Port;
        Registration = registration;
        PathBase = pathBase;
        SubPath = subPath;
    }
}
