using HttpSysLite.Transport.Http;
using Microsoft.AspNetCore.Server.HttpSys;

namespace HttpSysLite;

/// <summary>
/// Options for the HttpSysLite server: HttpSys's own <see cref="HttpSysOptions"/>, with HttpSys's names,
/// types, defaults and meanings (a program written for <c>UseHttpSys</c> compiles unchanged with
/// <c>UseHttpSysLite</c>), plus what HttpSysLite adds: the limits HTTP.sys keeps in the registry, with the
/// registry's defaults, the response cache's limits, a concurrency bound and a minimum request-body rate.
/// Bound from the "HttpSysLite" configuration section. docs/design.md section 3 says how each HttpSys
/// option maps here.
/// </summary>
public sealed class HttpSysLiteOptions : HttpSysOptions
{
    /// <summary>
    /// HttpSys's options with one default made explicit: <see cref="HttpSysOptions.ClientCertificateMethod"/> is
    /// NoCertificate, so no handshake asks for a client certificate unless the app says so. (HttpSys's
    /// AllowCertificate default asks nothing of the handshake either: there the binding decides.)
    /// </summary>
    public HttpSysLiteOptions() => ClientCertificateMethod = ClientCertificateMethod.NoCertificate;

    /// <summary>
    /// The SSL certificate bindings for https prefixes (HTTP.sys's netsh http sslcert table): by address
    /// and port, by SNI host name and port, or from a central store directory. Added to the driver when
    /// the server starts and removed when it stops; changed at run time through
    /// <see cref="Features.IHttpSysLiteCertificateBindingsFeature"/>. Bound from <c>HttpSysLite:SslCertificates</c>.
    /// </summary>
    public List<SslCertificateBinding> SslCertificates { get; } = new();

    /// <summary>
    /// Whether each TLS connection keeps the ClientHello it began with, for HttpSys's
    /// IHttpSysRequestPropertyFeature.TryGetTlsClientHello (HTTP.sys's ENABLE_CACHE_CLIENT_HELLO flag;
    /// default false: the record, up to 16 KiB, is held for the connection's life).
    /// </summary>
    public bool CacheTlsClientHello { get; set; }

    /// <summary>
    /// The Unix socket of a driver running as its own process (`httpsyslite serve --socket PATH`), which
    /// this server attaches to: the driver then owns the ports, parsing, routing, the cache and TLS, and
    /// this process runs the app (docs/design.md section 10). Null (the default) runs the driver in
    /// this process. Configuration: HttpSysLite:DriverSocket; environment: HTTPSYSLITE_DRIVER.
    /// </summary>
    public string? DriverSocket { get; set; }

    /// <summary>
    /// Who may attach to the request queue this server creates in a shared driver, as an SDDL security
    /// descriptor with Unix users and groups as Samba's SIDs: "D:(A;;GA;;;S-1-22-1-1001)(A;;GA;;;S-1-22-2-100)"
    /// admits uid 1001 and the members of gid 100 (WD is everyone; root always may). HttpSys's
    /// RequestQueueSecurityDescriptor says the same on Windows, but its types cannot be built on Linux.
    /// Null (the default) admits any process. Configuration: HttpSysLite:RequestQueueSecurityDescriptorSddl.
    /// </summary>
    public string? RequestQueueSecurityDescriptorSddl { get; set; }

    /// <summary>HttpSysOptions.MaxRequestBodySize's default: 30,000,000 bytes (about 28.6 MiB).</summary>
    public const long DefaultMaxRequestBodySize = 30_000_000;

    /// <summary>The default prefix when neither options nor --urls/ASPNETCORE_URLS give one (HttpSys's default).</summary>
    public const string DefaultUrlPrefix = "http://localhost:5000/";

    /// <summary>HttpSysOptions.RequestQueueLimit's default: 1000 waiting requests.</summary>
    public const int DefaultRequestQueueLimit = Transport.Routing.RequestQueue.DefaultLimit;

    /// <summary>
    /// How many requests the app may run at once before later ones queue; null (the default) for no
    /// limit, so every request runs inline on its connection as soon as it is parsed.
    /// </summary>
    public int? MaxConcurrentRequests { get; set; }

    /// <summary>The response cache's limits.</summary>
    public ResponseCacheOptions ResponseCache { get; } = new();

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
