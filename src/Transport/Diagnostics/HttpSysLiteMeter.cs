using System.Diagnostics.Metrics;

namespace HttpSysLite.Transport.Diagnostics;

/// <summary>
/// The "HttpSysLite" meter. Observable instruments read counters the driver keeps anyway, so a
/// process nobody measures pays nothing per request. (The request and connection instruments of
/// DESIGN.md section 8 come with the tracing work.)
/// </summary>
public static class HttpSysLiteMeter
{
    /// <summary>The meter's name, as dotnet-counters and OpenTelemetry ask for it.</summary>
    public const string Name = "HttpSysLite";

    private static readonly Meter s_meter = new(Name);

    /// <summary>Publishes the instruments of <paramref name="driver"/> (the process's shared driver).</summary>
    internal static void Register(HttpDriver driver)
    {
        var cache = driver.Cache;
        s_meter.CreateObservableCounter("httpsyslite.cache.hits", () => cache.Hits, "{request}", "Requests answered from the response cache.");
        s_meter.CreateObservableCounter("httpsyslite.cache.misses", () => cache.Misses, "{request}", "GET and HEAD requests looked up and not found (an empty cache is not consulted).");
        s_meter.CreateObservableCounter("httpsyslite.cache.stores", () => cache.Stores, "{response}", "Responses stored in the cache.");
        s_meter.CreateObservableCounter("httpsyslite.cache.evictions", () => cache.Evictions, "{entry}", "Entries removed: expiry, scavenger, size, invalidation, flush.");
        s_meter.CreateObservableUpDownCounter("httpsyslite.cache.bytes", () => cache.Bytes, "By", "Bytes held by the response cache.");
        s_meter.CreateObservableUpDownCounter("httpsyslite.cache.entries", () => (long)cache.Count, "{entry}", "Entries in the response cache.");
    }
}
