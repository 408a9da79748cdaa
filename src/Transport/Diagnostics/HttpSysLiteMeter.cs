using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using HttpSysLite.Transport.Routing;

namespace HttpSysLite.Transport.Diagnostics;

/// <summary>
/// The "HttpSysLite" meter: OpenTelemetry's HTTP server instruments (http.server.request.duration,
/// http.server.active_requests, with their attribute names) and the driver's own — open connections,
/// queue length per request queue, requests turned away with 503, and the response cache. Observable
/// instruments read counters the driver keeps anyway; the request instruments are written only while a
/// listener has enabled them, so a process nobody measures pays a branch per request.
/// </summary>
public static class HttpSysLiteMeter
{
    /// <summary>The meter's name, as dotnet-counters and OpenTelemetry ask for it.</summary>
    public const string Name = "HttpSysLite";

    private static readonly Meter s_meter = new(Name);

    /// <summary>http.server.request.duration, in seconds, from the parsed head to the response handed to the connection.</summary>
    internal static readonly Histogram<double> RequestDuration = s_meter.CreateHistogram<double>(
        "http.server.request.duration", "s", "Duration of HTTP server requests.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });

    /// <summary>http.server.active_requests: requests the app is running.</summary>
    internal static readonly UpDownCounter<long> ActiveRequests = s_meter.CreateUpDownCounter<long>(
        "http.server.active_requests", "{request}", "Number of active HTTP server requests.");

    /// <summary>Requests a request queue or the connection limit turned away (503, or a reset under Basic verbosity).</summary>
    internal static readonly Counter<long> RejectedRequests = s_meter.CreateCounter<long>(
        "httpsyslite.rejected_requests", "{request}", "Requests turned away with 503 (or a reset): queue full, queue timeout, no application, connection limit.");

    /// <summary>TLS handshakes completed on the driver's TLS ports.</summary>
    internal static readonly Counter<long> TlsHandshakes = s_meter.CreateCounter<long>(
        "httpsyslite.tls.handshakes", "{handshake}", "TLS handshakes completed.");

    /// <summary>TLS connections that ended without a handshake: no binding, a timeout, plain HTTP, a malformed ClientHello.</summary>
    internal static readonly Counter<long> TlsHandshakeFailures = s_meter.CreateCounter<long>(
        "httpsyslite.tls.handshake_failures", "{handshake}", "TLS connections that ended without completing a handshake.");

    private static readonly object[] s_statusCodes = Enumerable.Range(0, 600).Select(static code => (object)code).ToArray();
    private static readonly ConcurrentDictionary<RequestQueue, byte> s_queues = new();

    /// <summary>Publishes the instruments of <paramref name="driver"/> (the process's shared driver).</summary>
    internal static void Register(HttpDriver driver)
    {
        var cache = driver.Cache;
        s_meter.CreateObservableUpDownCounter("httpsyslite.active_connections", () => (long)driver.ConnectionCount, "{connection}", "Open connections.");
        s_meter.CreateObservableGauge("httpsyslite.queue.length", ObserveQueues, "{request}", "Requests waiting in each request queue for its app.");
        s_meter.CreateObservableCounter("httpsyslite.cache.hits", () => cache.Hits, "{request}", "Requests answered from the response cache.");
        s_meter.CreateObservableCounter("httpsyslite.cache.misses", () => cache.Misses, "{request}", "GET and HEAD requests looked up and not found (an empty cache is not consulted).");
        s_meter.CreateObservableCounter("httpsyslite.cache.stores", () => cache.Stores, "{response}", "Responses stored in the cache.");
        s_meter.CreateObservableCounter("httpsyslite.cache.evictions", () => cache.Evictions, "{entry}", "Entries removed: expiry, scavenger, size, invalidation, flush.");
        s_meter.CreateObservableUpDownCounter("httpsyslite.cache.bytes", () => cache.Bytes, "By", "Bytes held by the response cache.");
        s_meter.CreateObservableUpDownCounter("httpsyslite.cache.entries", () => (long)cache.Count, "{entry}", "Entries in the response cache.");
    }

    internal static void QueueOpened(RequestQueue queue) => s_queues.TryAdd(queue, 0);

    internal static void QueueClosed(RequestQueue queue) => s_queues.TryRemove(queue, out _);

    private static IEnumerable<Measurement<long>> ObserveQueues()
    {
        foreach (var queue in s_queues.Keys)
        {
            yield return new Measurement<long>(queue.WaitingCount, new KeyValuePair<string, object?>("httpsyslite.request_queue", queue.Name ?? "(anonymous)"));
        }
    }

    /// <summary>The status code boxed once, for tags.</summary>
    internal static object StatusCodeTag(int statusCode) => (uint)statusCode < (uint)s_statusCodes.Length ? s_statusCodes[statusCode] : statusCode;

    /// <summary>The OpenTelemetry attributes of a request: method, scheme, protocol version, server port (and status when known).</summary>
    internal static TagList RequestTags(string method, Http.HttpVersion version, object port, int statusCode = 0)
    {
        var tags = new TagList
        {
            { "http.request.method", method },
            { "url.scheme", "http" },
            { "network.protocol.version", version == Http.HttpVersion.Http11 ? "1.1" : "1.0" },
            { "server.port", port },
        };
        if (statusCode != 0)
        {
            tags.Add("http.response.status_code", StatusCodeTag(statusCode));
        }
        return tags;
    }
}
