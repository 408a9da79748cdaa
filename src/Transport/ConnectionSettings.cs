using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport;

/// <summary>
/// What governs a connection before any URL is known: the head limits, the HTTP.sys timers and the
/// connection limit. HTTP.sys keeps these per server session (the registry for the limits); here they
/// belong to a listening port and come from the server that opened it, so two servers on one port
/// share one set (a later server's differing settings are reported, not applied).
/// </summary>
public sealed record ConnectionSettings
{
    /// <summary>HTTP.sys's default for HeaderWait, IdleConnection, EntityBody and DrainEntityBody: 2 minutes.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>HTTP.sys's MinSendBytesPerSecond default.</summary>
    public const long DefaultMinSendBytesPerSecond = 150;

    /// <summary>The defaults of every setting.</summary>
    public static ConnectionSettings Default { get; } = new();

    /// <summary>Request line and header limits, and URL segment limits.</summary>
    public HttpParserLimits Limits { get; init; } = HttpParserLimits.Default;

    /// <summary>From the first byte of a request head until the head is complete; then 408 and close.</summary>
    public TimeSpan HeaderWait { get; init; } = DefaultTimeout;

    /// <summary>A connection with no request in progress is closed after this long.</summary>
    public TimeSpan IdleConnection { get; init; } = DefaultTimeout;

    /// <summary>How long a body read may wait for the next bytes; then the read fails with 408 and the connection closes.</summary>
    public TimeSpan EntityBody { get; init; } = DefaultTimeout;

    /// <summary>How long skipping a body the app left unread may take before the connection is closed instead.</summary>
    public TimeSpan DrainEntityBody { get; init; } = DefaultTimeout;

    /// <summary>
    /// A send the client does not take must progress at this rate (after a grace of
    /// <see cref="SendGracePeriod"/>), or the connection is cut off; 0 turns the check off.
    /// </summary>
    public long MinSendBytesPerSecond { get; init; } = DefaultMinSendBytesPerSecond;

    /// <summary>Time any blocked send is allowed, however small (Kestrel's MinResponseDataRate grace period).</summary>
    public static readonly TimeSpan SendGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>Open connections allowed on the port; null for no limit. Beyond it a new connection is turned away.</summary>
    public long? MaxConnections { get; init; }

    /// <summary>On a TLS port: when the client is asked for a certificate.</summary>
    public Tls.ClientCertificateRequest ClientCertificates { get; init; }

    /// <summary>On a TLS port: each connection keeps its ClientHello for the app (HTTP.sys's ENABLE_CACHE_CLIENT_HELLO).</summary>
    public bool CacheTlsClientHello { get; init; }

    /// <summary>How a connection beyond <see cref="MaxConnections"/> is turned away (HTTP.sys's 503 verbosity).</summary>
    public ServiceUnavailableMode ConnectionLimitMode { get; init; }

}
