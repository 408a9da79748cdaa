using System.Net;
using System.Security.Cryptography.X509Certificates;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Output;
using HttpVersion = HttpSysLite.Transport.Http.HttpVersion;

namespace HttpSysLite.Transport.Routing;

/// <summary>
/// A request as the consumer of a request queue sees it: its head, then the HTTP Server API's calls
/// on it (read the body, send the response, abort, ask for a client certificate). The driver's own
/// <see cref="RequestContext"/> is one; the app side of a channel to a driver in another process is
/// the other (docs/design.md section 10), so the server has one code path for both. Used by one
/// request at a time, as RequestContext is.
/// </summary>
public interface IQueuedRequest
{
    /// <summary>The driver's request id (HTTP_REQUEST_ID).</summary>
    ulong RequestId { get; }

    /// <summary>The driver's connection id (HTTP_CONNECTION_ID).</summary>
    ulong ConnectionId { get; }

    /// <summary>The method, interned for the standard ones.</summary>
    string Method { get; }

    /// <summary>The request-target exactly as received.</summary>
    string RawTarget { get; }

    /// <summary>The matched prefix path without its trailing slash.</summary>
    string PathBase { get; }

    /// <summary>The canonical path after <see cref="PathBase"/>.</summary>
    string Path { get; }

    /// <summary>"" or the query with its leading '?'.</summary>
    string QueryString { get; }

    /// <summary>HTTP/1.0 or HTTP/1.1.</summary>
    HttpVersion Version { get; }

    /// <summary>"https" over TLS, else "http".</summary>
    string Scheme { get; }

    /// <summary>The header fields as received.</summary>
    RequestHeaders Headers { get; }

    /// <summary>The client's endpoint.</summary>
    IPEndPoint RemoteEndPoint { get; }

    /// <summary>The endpoint the client connected to.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>What the connection's TLS handshake settled; null on a plain port.</summary>
    Tls.TlsConnectionInfo? Tls { get; }

    /// <summary>When each step of the request happened (Stopwatch ticks).</summary>
    ref readonly RequestTimestamps Timestamps { get; }

    /// <summary>True when a body follows the head.</summary>
    bool HasRequestBody { get; }

    /// <summary>True when the request may be upgraded (101 Switching Protocols).</summary>
    bool IsUpgradableRequest { get; }

    /// <summary>True when the response may be stored in the driver's cache.</summary>
    bool IsCacheableRequest { get; }

    /// <summary>The server's state for the connection, reused across its keep-alive requests.</summary>
    object? ServerState { get; set; }

    /// <summary>Fires when the request is aborted or the client goes away.</summary>
    CancellationToken RequestAborted { get; }

    /// <summary>The body limit; fixed once reading starts.</summary>
    long? MaxRequestBodySize { get; set; }

    /// <summary>The minimum body rate (bytes per second); 0 turns it off.</summary>
    double MinBodyBytesPerSecond { get; set; }

    /// <summary>The time before the body rate applies.</summary>
    TimeSpan MinBodyGracePeriod { get; set; }

    /// <summary>True once reading of the body has begun.</summary>
    bool HasStartedReadingBody { get; }

    /// <summary>True when the whole body has been read (or there was none).</summary>
    bool IsRequestBodyComplete { get; }

    /// <summary>The trailer fields of a chunked body, once it is complete.</summary>
    RequestHeaders Trailers { get; }

    /// <summary>Reads body bytes; 0 means the body is complete.</summary>
    ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>The client's certificate, asked for now where the port allows it.</summary>
    ValueTask<X509Certificate2?> ReceiveClientCertificateAsync(CancellationToken cancellationToken);

    /// <summary>The response status.</summary>
    int StatusCode { get; set; }

    /// <summary>The reason phrase, or null for the standard one.</summary>
    string? ReasonPhrase { get; set; }

    /// <summary>Response bytes wait until the response is complete or flushed (HTTP_SEND_RESPONSE_FLAG_BUFFER_DATA).</summary>
    bool BufferResponseData { get; set; }

    /// <summary>How the driver's cache may keep the response.</summary>
    Caching.CachePolicy? CachePolicy { get; set; }

    /// <summary>True once the response head is fixed.</summary>
    bool HasStarted { get; }

    /// <summary>True once the response is complete.</summary>
    bool IsResponseCompleted { get; }

    /// <summary>True when trailers can still be sent.</summary>
    bool CanHaveTrailers { get; }

    /// <summary>Body bytes written but not flushed yet.</summary>
    long UnflushedBodyBytes { get; }

    /// <summary>Starts the response's OnStarting phase; false when it has started already or the request has ended.</summary>
    bool TryBeginStarting();

    /// <summary>Ends the OnStarting phase without starting (the callbacks failed).</summary>
    void EndStarting();

    /// <summary>Fixes the response head from <paramref name="headers"/> (HttpSendHttpResponse).</summary>
    void StartResponse(IResponseHeaderSource headers);

    /// <summary>The response body is not sent (a HEAD request, or a status without a body).</summary>
    void DiscardResponseBody();

    /// <summary>Memory for body bytes; <see cref="Advance"/> commits them.</summary>
    Memory<byte> GetMemory(int sizeHint = 0);

    /// <summary>Commits body bytes written into <see cref="GetMemory"/>.</summary>
    void Advance(int bytes);

    /// <summary>Writes body bytes (HttpSendResponseEntityBody).</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Sends what was written.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Completes the response, with its trailers.</summary>
    ValueTask CompleteAsync();

    /// <summary>Sends 101 and hands the connection over as a stream.</summary>
    ValueTask<Stream> UpgradeAsync();

    /// <summary>True while the request may be delegated: its response not started, its body not read.</summary>
    bool CanDelegate { get; }

    /// <summary>
    /// Hands the request to the request queue <paramref name="queueName"/>, served under its prefix
    /// <paramref name="urlPrefix"/> (HttpDelegateRequestEx); nothing more of a response may be written here.
    /// </summary>
    void Delegate(string queueName, string urlPrefix);

    /// <summary>Aborts the request and its connection (HttpCancelHttpRequest).</summary>
    void Abort();
}
