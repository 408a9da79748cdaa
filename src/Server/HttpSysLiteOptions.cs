using HttpSysLite.Transport.Http;

namespace HttpSysLite;

/// <summary>
/// Options for the HttpSysLite server. Names and defaults follow
/// Microsoft.AspNetCore.Server.HttpSys.HttpSysOptions, so moving from UseHttpSys is a one-word change;
/// the limits HTTP.sys keeps in the registry are options here, with the registry's defaults.
/// Bound from the "HttpSysLite" configuration section.
/// </summary>
public sealed class HttpSysLiteOptions
{
    /// <summary>HttpSysOptions.MaxRequestBodySize's default: 30,000,000 bytes (about 28.6 MiB).</summary>
    public const long DefaultMaxRequestBodySize = 30_000_000;

    /// <summary>The default prefix when neither options nor --urls/ASPNETCORE_URLS give one (HttpSys's default).</summary>
    public const string DefaultUrlPrefix = "http://localhost:5000/";

    /// <summary>The prefixes to register. Empty: the hosting addresses (--urls), else <see cref="DefaultUrlPrefix"/>.</summary>
    public UrlPrefixCollection UrlPrefixes { get; } = new();

    /// <summary>The request queue's name; null for an anonymous queue per server. Servers in one process share a named queue with <see cref="RequestQueueMode"/>.</summary>
    public string? RequestQueueName { get; set; }

    /// <summary>Create the named queue, attach to it, or either (HttpSys's RequestQueueMode; default Create).</summary>
    public RequestQueueMode RequestQueueMode { get; set; }

    /// <summary>HttpSysOptions.RequestQueueLimit's default: 1000 waiting requests.</summary>
    public const int DefaultRequestQueueLimit = Transport.Routing.RequestQueue.DefaultLimit;

    /// <summary>How many requests may wait for the app once it is saturated; beyond, 503 per <see cref="Http503Verbosity"/>.</summary>
    public int RequestQueueLimit { get; set; } = DefaultRequestQueueLimit;

    /// <summary>
    /// How many requests the app may run at once before later ones queue; null (the default) for no
    /// limit, so every request runs inline on its connection as soon as it is parsed.
    /// </summary>
    public int? MaxConcurrentRequests { get; set; }

    /// <summary>What a request that cannot be queued gets: a reset (Basic, the HttpSys default), a 503 (Limited), or a 503 that says why (Full).</summary>
    public Http503VerbosityLevel Http503Verbosity { get; set; } = Http503VerbosityLevel.Basic;

    /// <summary>
    /// Whether responses that say so (Cache-Control: public with a lifetime) are stored and answered by the
    /// kernel-style cache without running the app (HttpSysOptions.EnableResponseCaching; default true).
    /// </summary>
    public bool EnableResponseCaching { get; set; } = true;

    /// <summary>The response cache's limits.</summary>
    public ResponseCacheOptions ResponseCache { get; } = new();

    /// <summary>The HTTP.sys timers.</summary>
    public TimeoutManager Timeouts { get; } = new();

    /// <summary>
    /// The largest request body, in bytes; null for no limit. Larger bodies fail with 413: before the
    /// app reads when Content-Length says so, during the read when chunked. Per request through
    /// IHttpMaxRequestBodySizeFeature.
    /// </summary>
    public long? MaxRequestBodySize { get; set; } = DefaultMaxRequestBodySize;

    /// <summary>
    /// HTTP.sys's BUFFER_DATA (HttpSysOptions.EnableKernelResponseBuffering; default false). On: a body
    /// write completes once copied into the connection's bounded send buffer (64 KiB), so an app that
    /// writes one piece at a time keeps a high-latency link busy. Off: a write completes once no more than
    /// 16 KiB (or two TCP segments) of the response is unacknowledged, so each write waits on the client. A write that
    /// completes a declared Content-Length never waits. Per response through IHttpSysLiteResponseFeature.
    /// </summary>
    public bool EnableKernelResponseBuffering { get; set; }

    /// <summary>Whether the body streams allow synchronous Read and Write (off by default, as in ASP.NET Core).</summary>
    public bool AllowSynchronousIO { get; set; }

    /// <summary>Whether body writes to a disconnected client throw (HttpSysOptions.ThrowWriteExceptions); otherwise they complete silently.</summary>
    public bool ThrowWriteExceptions { get; set; }

    /// <summary>Request line plus headers, in bytes (HTTP.sys registry MaxRequestBytes, default 16 KiB). Beyond: 431 (414 for the line).</summary>
    public int MaxRequestBytes { get; set; } = HttpParserLimits.DefaultMaxRequestBytes;

    /// <summary>One header line or the request line, in bytes (HTTP.sys registry MaxFieldLength, default 16 KiB).</summary>
    public int MaxFieldLength { get; set; } = HttpParserLimits.DefaultMaxFieldLength;

    /// <summary>Header fields per request (Kestrel's default, 100). Beyond: 431.</summary>
    public int MaxRequestHeaderCount { get; set; } = HttpParserLimits.DefaultMaxRequestHeaderCount;

    /// <summary>The longest segment of the canonical URL path, in characters (HTTP.sys registry UrlSegmentMaxLength, default 260). Beyond: 400.</summary>
    public int UrlSegmentMaxLength { get; set; } = HttpParserLimits.DefaultUrlSegmentMaxLength;

    /// <summary>The most segments a URL path may have (HTTP.sys registry UrlSegmentMaxCount, default 255). Beyond: 400.</summary>
    public int UrlSegmentMaxCount { get; set; } = HttpParserLimits.DefaultUrlSegmentMaxCount;

    /// <summary>
    /// The most connections open at once on the server's ports (HttpSysOptions.MaxConnections). Null (the
    /// default): the process's open-file limit less a reserve of a tenth of it and at least 256, so
    /// connections can never take the descriptors the runtime needs (logged at start); no limit where
    /// the open-file limit is unknown or unlimited. A connection beyond it is answered per
    /// <see cref="Http503Verbosity"/> and closed at once.
    /// </summary>
    public long? MaxConnections { get; set; }

    /// <summary>Kestrel's MinRequestBodyDataRate default: 240 bytes per second.</summary>
    public const double DefaultMinRequestBodyBytesPerSecond = 240;

    /// <summary>
    /// The slowest a request body may arrive while the app waits to read it, once
    /// <see cref="MinRequestBodyGracePeriod"/> of waiting has passed; slower, the read fails with 408
    /// and the connection closes. 0 turns it off. Per request through Kestrel's
    /// IHttpMinRequestBodyDataRateFeature. Stricter than HTTP.sys, which has only the EntityBody gap timer:
    /// a client that sends a byte just inside every gap would otherwise hold a connection and an app
    /// request for as long as it likes.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = DefaultMinRequestBodyBytesPerSecond;

    /// <summary>How long a body may wait before <see cref="MinRequestBodyBytesPerSecond"/> applies (Kestrel's 5 s).</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

}
