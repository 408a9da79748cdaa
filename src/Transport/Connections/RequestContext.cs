using System.Net;
using HttpVersion = HttpSysLite.Transport.Http.HttpVersion;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport.Connections;

/// <summary>
/// One request and its response as the driver delivers them through a request queue: the managed
/// counterpart of HTTP_REQUEST plus the send and receive calls of the HTTP Server API. Taken from the
/// driver's <see cref="RequestContextPool"/> when a request's first bytes arrive and given back when
/// its connection goes idle, so it may serve many connections in turn, one request at a time: nothing
/// may keep it past its request (as an app must not keep its HttpContext). Not thread-safe, except
/// <see cref="Abort"/>.
/// </summary>
public sealed partial class RequestContext : Routing.IQueuedRequest
{
    private static long s_lastRequestId;

    // The connection served now: set by Attach, cleared by Detach (null only while pooled).
    private HttpConnection _connection = null!;
    private HttpParserLimits _limits = HttpParserLimits.Default;
    private readonly Caching.ResponseCapture _capture;
    private CancellationTokenSource _aborted = new();

    internal RequestContext()
    {
        _capture = new Caching.ResponseCapture(this);
    }

    /// <summary>Binds a spare context to the connection whose request it will carry (the pool's Rent).</summary>
    internal void Attach(HttpConnection connection)
    {
        _connection = connection;
        _limits = connection.Settings.Limits;
        _timestamps = default;
        _timestamps.ConnectionStart = connection.StartTimestamp;
    }

    /// <summary>Unbinds the context from its connection (the pool's Return): it keeps only what any request may reuse.</summary>
    internal void Detach()
    {
        Volatile.Write(ref _connection, null!);
        Registration = null;
        CachePolicy = null;
        // The server's per-request objects were handed to one connection's app, which might still hold
        // some of them (a stream, a feature) against the rules: they must never reach the next
        // connection's request, so the server ends them and the next request gets its own.
        var serverState = ServerState;
        ServerState = null;
        (serverState as IDisposable)?.Dispose();
    }

    /// <summary>
    /// A context with no connection behind it, for the parts of the request path that are pure functions
    /// of the bytes (head parsing and validation): the request-case corpus runs them without sockets.
    /// Body, response and abort members must not be used.
    /// </summary>
    internal static RequestContext CreateDetached(HttpParserLimits limits) => new(limits);

    private RequestContext(HttpParserLimits limits)
    {
        _connection = null!;
        _limits = limits;
        _capture = new Caching.ResponseCapture(this);
    }

    /// <summary>The method, interned for the standard ones.</summary>
    public string Method { get; internal set; } = KnownMethods.Get;

    /// <summary>The request-target exactly as received.</summary>
    public string RawTarget { get; internal set; } = "/";

    /// <summary>The matched prefix path without its trailing slash, in the request's casing ("" for a root prefix).</summary>
    public string PathBase { get; internal set; } = string.Empty;

    /// <summary>The canonical path after <see cref="PathBase"/>; %2F stays encoded.</summary>
    public string Path { get; internal set; } = "/";

    /// <summary>"" or the query including its leading '?', undecoded.</summary>
    public string QueryString { get; internal set; } = string.Empty;

    /// <summary>HTTP/1.0 or HTTP/1.1.</summary>
    public HttpVersion Version { get; internal set; }

    /// <summary>"https" on a TLS port, else "http".</summary>
    public string Scheme => IsHttps ? "https" : "http";

    /// <summary>True when the request came over TLS.</summary>
    public bool IsHttps => _connection is not null && _connection.Transport.Tls is not null;

    /// <summary>What the connection's TLS handshake settled; null on a plain port.</summary>
    public Tls.TlsConnectionInfo? Tls => _connection?.Transport.Tls;

    /// <summary>
    /// The client's certificate, asked for now if the port asks on request and the connection has none
    /// yet (HTTP.sys's HttpReceiveClientCertificate: TLS 1.2 renegotiation or TLS 1.3 post-handshake
    /// authentication). Null on a plain port, when the port never asks, or when the client sends none.
    /// </summary>
    /// <exception cref="InvalidOperationException">The request body has not been read to its end: the client may still be sending, and a new handshake cannot start past its bytes.</exception>
    public async ValueTask<System.Security.Cryptography.X509Certificates.X509Certificate2?> ReceiveClientCertificateAsync(CancellationToken cancellationToken)
    {
        var tls = Tls;
        if (tls is null || tls.ClientCertificate is not null || _connection.Settings.ClientCertificates != Transport.Tls.ClientCertificateRequest.OnRequest)
        {
            return tls?.ClientCertificate;
        }
        if (!_bodyComplete)
        {
            throw new InvalidOperationException(
                "Read the request body to its end before asking for a client certificate: the client may still be sending, and TLS cannot renegotiate past its bytes.");
        }
        try
        {
            return await _connection.Transport.ReceiveClientCertificateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The handshake may have stopped halfway: answer this request, then close (as Kestrel does).
            _connection.EndKeepAlive(KeepAliveEndReason.ClientCertificateFailed);
            throw;
        }
    }

    /// <summary>The request's header fields.</summary>
    public RequestHeaders Headers { get; } = new();

    /// <summary>
    /// Writes and checks the response's fields. It lives with the context, not the connection: it
    /// remembers the last head it wrote, which saves encoding and validating the same strings again
    /// (bench/README.md, "Header fields"), and a pooled context keeps that for whichever connection
    /// takes it next, while an idle connection holds none of it.
    /// </summary>
    internal Output.ResponseHeaderWriter HeaderWriter { get; } = new();

    /// <summary>The last routing decision this context carried (see <see cref="RouteMemo"/>).</summary>
    internal RouteMemo Routed;

    /// <summary>The declared Content-Length, or null.</summary>
    public long? ContentLength { get; internal set; }

    /// <summary>True when the body uses the chunked transfer coding.</summary>
    public bool IsChunked { get; internal set; }

    /// <summary>True when a body follows the head (RFC 9112 section 6.3).</summary>
    public bool HasRequestBody => IsChunked || ContentLength > 0;

    /// <summary>True for HEAD: the response carries headers only.</summary>
    public bool IsHeadRequest => ReferenceEquals(Method, KnownMethods.Head);

    /// <summary>True when the client asked to switch protocols (Connection: upgrade plus Upgrade) on HTTP/1.1.</summary>
    public bool IsUpgradableRequest { get; internal set; }

    /// <summary>The URL prefix that routed this request.</summary>
    public PrefixRegistration? Registration { get; internal set; }

    /// <summary>The connection's 64-bit id.</summary>
    public ulong ConnectionId => _connection.Id;

    /// <summary>This request's 64-bit id, unique in the process (HTTP.sys's HTTP_REQUEST_ID).</summary>
    public ulong RequestId { get; private set; }

    /// <summary>The client's address; IPv4 peers of the dual-mode socket are shown as plain IPv4.</summary>
    public IPEndPoint RemoteEndPoint => _connection.Transport.RemoteEndPoint;

    /// <summary>The local address the connection arrived on, unmapped in the same way.</summary>
    public IPEndPoint LocalEndPoint => _connection.Transport.LocalEndPoint;

    /// <summary>Fires when the client disconnects or the request is aborted.</summary>
    public CancellationToken RequestAborted => _aborted.Token;

    /// <summary>True for a GET without a body, Authorization or Range: a request whose response the cache may store.</summary>
    public bool IsCacheableRequest { get; internal set; }

    /// <summary>Set by the server before the response starts when the response may be cached, and for how long.</summary>
    public Caching.CachePolicy? CachePolicy { get; set; }

    /// <summary>When the driver did each step of this request.</summary>
    public ref readonly RequestTimestamps Timestamps => ref _timestamps;

    internal RequestTimestamps _timestamps;

    /// <summary>Stopwatch timestamp of the parsed head when http.server.request.duration is measured, else 0.</summary>
    internal long StartTimestamp { get; set; }

    /// <summary>The host the request was routed by (absolute-form authority, else Host), as received.</summary>
    internal string Host { get; set; } = string.Empty;

    /// <summary>
    /// A slot for the server's own per-request object, kept across the requests of the connection while
    /// it keeps this context; disposed (if it is <see cref="IDisposable"/>) when the context goes back
    /// to the pool.
    /// </summary>
    public object? ServerState { get; set; }

    /// <summary>The head and URL limits in force on the connection's port.</summary>
    internal HttpParserLimits Limits => _limits;

    /// <summary>The canonical path before the PathBase split, as routing saw it.</summary>
    internal string CanonicalPath { get; private set; } = "/";

    /// <summary>The authority of an absolute-form target, which replaces Host (RFC 9112 section 3.2.2).</summary>
    internal string? TargetAuthority { get; private set; }

    /// <summary>True once a target was parsed on this connection, so an identical one can reuse its strings.</summary>
    internal bool TargetParsed { get; private set; }

    internal void SetTarget(string rawTarget, string canonicalPath, string queryString, string? authority)
    {
        RawTarget = rawTarget;
        CanonicalPath = canonicalPath;
        QueryString = queryString;
        TargetAuthority = authority;
        TargetParsed = rawTarget != "*";
    }

    /// <summary>Ends the connection at once (RST), abandoning the response. Safe from any thread.</summary>
    public void Abort() => Volatile.Read(ref _connection)?.Abort(); // null once pooled: its request is over

    internal void OnConnectionClosed() => _aborted.Cancel();

    /// <summary>Prepares the object for the next request on the connection.</summary>
    internal void Reset()
    {
        Headers.Clear();
        ContentLength = null;
        IsChunked = false;
        IsUpgradableRequest = false;
        IsCacheableRequest = false;
        CachePolicy = null;
        Registration = null;
        RequestId = (ulong)Interlocked.Increment(ref s_lastRequestId);
        if (!_aborted.TryReset())
        {
            // Not disposed: a cancelled source holds nothing to release, and the connection's close may
            // still be cancelling it from another thread (cancelling a disposed source throws).
            _aborted = new CancellationTokenSource();
        }
        ResetBody();
        ResetResponse();
    }
}
