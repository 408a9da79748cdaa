namespace HttpSysLite.Transport.Routing;

/// <summary>The four kinds of prefix host, in HTTP.sys's matching order ("UrlPrefix Strings" on learn.microsoft.com).</summary>
public enum UrlPrefixHostKind
{
    /// <summary>"+": matches every host, before anything else.</summary>
    StrongWildcard = 0,
    /// <summary>A host name compared with the request's Host.</summary>
    HostName = 1,
    /// <summary>An IP literal compared with the local address the connection arrived on.</summary>
    IPAddress = 2,
    /// <summary>"*": matches what nothing else claimed.</summary>
    WeakWildcard = 3,
}
