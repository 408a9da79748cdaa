namespace HttpSysLite.Transport.Caching;

/// <summary>
/// The limits of a driver's response cache, which every server on the driver shares (HTTP.sys sets
/// them once, in the registry). The first server to start applies them; a later server asking for
/// others is told so, as a port's settings are.
/// </summary>
public sealed record ResponseCacheSettings
{
    /// <summary>The bound on all entries' bytes.</summary>
    public long MaxBytes { get; init; } = ResponseCache.DefaultMaxBytes;

    /// <summary>The largest response stored.</summary>
    public int MaxEntryBytes { get; init; } = ResponseCache.DefaultMaxEntryBytes;

    /// <summary>An entry not hit for this long is removed.</summary>
    public TimeSpan ScavengerPeriod { get; init; } = ResponseCache.DefaultScavengerPeriod;

    /// <summary>Marks answers from the cache (debugging).</summary>
    public bool AddHitHeader { get; init; }
}
