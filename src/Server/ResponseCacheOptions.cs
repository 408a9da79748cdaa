using HttpSysLite.Transport.Caching;

namespace HttpSysLite;

/// <summary>
/// The kernel-style response cache's limits (HTTP.sys keeps them in the registry: UriMaxUriBytes,
/// UriScavengerPeriod). The cache is process-wide, like HTTP.sys's: the last server to start sets them.
/// </summary>
public sealed class ResponseCacheOptions
{
    /// <summary>The bound on all entries' bytes; least recently used entries go first beyond it (default 64 MiB).</summary>
    public long MaxBytes { get; set; } = ResponseCache.DefaultMaxBytes;

    /// <summary>The largest response stored (HTTP.sys UriMaxUriBytes default: 256 KiB).</summary>
    public int MaxEntryBytes { get; set; } = ResponseCache.DefaultMaxEntryBytes;

    /// <summary>An entry not hit for this long is removed (HTTP.sys UriScavengerPeriod default: 120 s).</summary>
    public TimeSpan ScavengerPeriod { get; set; } = ResponseCache.DefaultScavengerPeriod;

    /// <summary>Adds "X-HttpSysLite-Cache: HIT" to responses served from the cache. For debugging; off by default.</summary>
    public bool AddHitHeader { get; set; }
}
